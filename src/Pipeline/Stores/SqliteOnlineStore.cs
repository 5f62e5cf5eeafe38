using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// The embedded online store: one SQLite row per (namespace, primary key, feature) holding the value as JSON, its
/// feature time and its expiry. An older message never overwrites a newer value (the upsert only applies when the
/// incoming feature time is not older); <c>max_staleness</c> is counted from the write. One transaction and one
/// prepared statement per batch.
/// </summary>
public sealed class SqliteOnlineStore : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _clock;

    private SqliteOnlineStore(SqliteConnection connection, TimeProvider clock)
    {
        _connection = connection;
        _clock = clock;
    }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteOnlineStore> OpenAsync(string path, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS features (
                    namespace  TEXT    NOT NULL,
                    pk         TEXT    NOT NULL,
                    feature    TEXT    NOT NULL,
                    value      TEXT,
                    ts         INTEGER NOT NULL,
                    expires_at INTEGER,
                    PRIMARY KEY (namespace, pk, feature)) WITHOUT ROWID;
                """;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return new SqliteOnlineStore(connection, clock ?? TimeProvider.System);
    }

    /// <summary>Writes the feature rows of a resolved batch (all but <c>__ts__</c>); durable when this returns.</summary>
    public async Task WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
    {
        var f = batch.Features;
        if (f.Length == 0) return;
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        long? expires = plan.Class.MaxStaleness is { } s ? now + (long)(s.TotalMilliseconds * 1000) : null;
        var ts = (Apache.Arrow.TimestampArray)f.Column("__ts__");
        var pkColumn = f.Column(plan.Class.Primary.Fqn);
        var features = f.Schema.FieldsList.Select((field, i) => (field.Name, Index: i))
            .Where(x => x.Name != "__ts__").Select(x => (x.Name, x.Index, Type: plan.Class.Features.First(p => p.Fqn == x.Name).Type)).ToList();

        await using var tx = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken);
        await using var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO features (namespace, pk, feature, value, ts, expires_at) VALUES ($ns, $pk, $f, $v, $ts, $exp)
            ON CONFLICT (namespace, pk, feature) DO UPDATE SET value = excluded.value, ts = excluded.ts, expires_at = excluded.expires_at
            WHERE excluded.ts >= features.ts
            """;
        var ns = cmd.Parameters.AddWithValue("$ns", plan.Class.Namespace);
        var pk = cmd.Parameters.Add("$pk", SqliteType.Text);
        var feature = cmd.Parameters.Add("$f", SqliteType.Text);
        var value = cmd.Parameters.Add("$v", SqliteType.Text);
        var time = cmd.Parameters.Add("$ts", SqliteType.Integer);
        var exp = cmd.Parameters.Add("$exp", SqliteType.Integer);
        exp.Value = (object?)expires ?? DBNull.Value;
        cmd.Prepare();
        for (int r = 0; r < f.Length; r++)
        {
            pk.Value = KeyText(pkColumn, r, plan.Class.Primary.Type);
            time.Value = ts.Values[r];
            foreach (var (name, index, type) in features)
            {
                feature.Value = name;
                value.Value = FeatureJson.ToJson(f.Column(index), r, type);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The primary key as stored: the integer or the text itself, bytes as base64.</summary>
    public static string KeyText(Apache.Arrow.IArrowArray column, int row, DataType type) =>
        ArrowValues.GetRow(column, row, type) switch
        {
            long l => l.ToString(CultureInfo.InvariantCulture),
            byte[] b => Convert.ToBase64String(b),
            var v => v?.ToString() ?? "",
        };

    /// <summary>The unexpired values of one entity, keyed by FQN, as a JSON object text; null when none.</summary>
    public async Task<string?> GetAsync(FeatureClassPlan cls, string primaryKey, CancellationToken cancellationToken = default)
    {
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        await using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT feature, value FROM features WHERE namespace = $ns AND pk = $pk AND (expires_at IS NULL OR expires_at > $now) ORDER BY feature";
        cmd.Parameters.AddWithValue("$ns", cls.Namespace);
        cmd.Parameters.AddWithValue("$pk", primaryKey);
        cmd.Parameters.AddWithValue("$now", now);
        var values = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                values[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        if (values.Count == 0) return null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions with { Indented = true }))
        {
            w.WriteStartObject();
            // In declaration order, primary key first.
            foreach (var f in cls.Features.OrderByDescending(f => f.Primary))
                if (values.TryGetValue(f.Fqn, out var json))
                {
                    w.WritePropertyName(f.Fqn);
                    w.WriteRawValue(json ?? "null");
                }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
