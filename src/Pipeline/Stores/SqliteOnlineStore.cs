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
                PRAGMA cache_size = -65536;
                CREATE TABLE IF NOT EXISTS features (
                    namespace  TEXT    NOT NULL,
                    pk         TEXT    NOT NULL,
                    feature    TEXT    NOT NULL,
                    value,
                    ts         INTEGER NOT NULL,
                    expires_at INTEGER,
                    PRIMARY KEY (namespace, pk, feature)) WITHOUT ROWID;
                """;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return new SqliteOnlineStore(connection, clock ?? TimeProvider.System);
    }

    private SqliteCommand? _upsert;

    /// <summary>Writes the feature rows of a resolved batch (all but <c>__ts__</c>); durable when this returns.</summary>
    public Task WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
    {
        // Microsoft.Data.Sqlite's async calls run synchronously anyway; plain calls avoid their overhead.
        var f = batch.Features;
        if (f.Length == 0) return Task.CompletedTask;
        cancellationToken.ThrowIfCancellationRequested();
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        object expires = plan.Class.MaxStaleness is { } s ? now + (long)(s.TotalMilliseconds * 1000) : DBNull.Value;
        var ts = (Apache.Arrow.TimestampArray)f.Column("__ts__");
        var pkColumn = f.Column(plan.Class.Primary.Fqn);
        var features = f.Schema.FieldsList.Select((field, i) => (field.Name, Column: f.Column(i)))
            .Where(x => x.Name != "__ts__").Select(x => (x.Name, x.Column, Type: plan.Class.Features.First(p => p.Fqn == x.Name).Type)).ToList();

        // The whole batch travels as one JSON parameter, [[pk, feature, value, ts], ...], expanded by json_each in
        // SQLite's own code: binding a parameter per value costs far more than the insert itself.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(f.Length * features.Count * 48);
        using (var w = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions))
        {
            w.WriteStartArray();
            for (int r = 0; r < f.Length; r++)
            {
                var pk = KeyText(pkColumn, r, plan.Class.Primary.Type);
                foreach (var (name, column, type) in features)
                {
                    w.WriteStartArray();
                    w.WriteStringValue(pk);
                    w.WriteStringValue(name);
                    if (type.Kind is TypeKind.List or TypeKind.Struct && !column.IsNull(r)) w.WriteStringValue(FeatureJson.ToJson(column, r, type));
                    else StoredJson(w, column, r, type);
                    w.WriteNumberValue(ts.Values[r]);
                    w.WriteEndArray();
                }
            }
            w.WriteEndArray();
        }
        var cmd = _upsert ??= CreateUpsert();
        using var tx = _connection.BeginTransaction();
        cmd.Transaction = tx;
        cmd.Parameters["$ns"].Value = plan.Class.Namespace;
        cmd.Parameters["$exp"].Value = expires;
        cmd.Parameters["$rows"].Value = System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        cmd.ExecuteNonQuery();
        tx.Commit();
        return Task.CompletedTask;
    }

    private SqliteCommand CreateUpsert()
    {
        var cmd = _connection.CreateCommand();
        // 'WHERE true' settles SQLite's parsing ambiguity of INSERT ... SELECT ... ON CONFLICT. Rows of one batch apply in
        // order, so a batch holding two versions of an entity keeps the newer.
        cmd.CommandText = """
            INSERT INTO features (namespace, pk, feature, value, ts, expires_at)
            SELECT $ns, value ->> 0, value ->> 1, value ->> 2, value ->> 3, $exp FROM json_each($rows) WHERE true
            ON CONFLICT (namespace, pk, feature) DO UPDATE SET value = excluded.value, ts = excluded.ts, expires_at = excluded.expires_at
            WHERE excluded.ts >= features.ts
            """;
        cmd.Parameters.Add(new SqliteParameter("$ns", SqliteType.Text));
        cmd.Parameters.Add(new SqliteParameter("$exp", SqliteType.Integer));
        cmd.Parameters.Add(new SqliteParameter("$rows", SqliteType.Text));
        cmd.Prepare();
        return cmd;
    }

    /// <summary>
    /// A scalar feature as stored: integers (int64, enum, timestamp micros, date days, bool 0/1), reals, text;
    /// bytes as base64 text and non-finite floats as text (JSON has neither); <see cref="RowValue"/> reverses it.
    /// </summary>
    private static void StoredJson(Utf8JsonWriter w, Apache.Arrow.IArrowArray column, int row, DataType type)
    {
        var v = ArrowValues.GetRow(column, row, type);
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case bool b: w.WriteNumberValue(b ? 1 : 0); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case double d: w.WriteStringValue(Sluice.Kernels.Functions.TextFormat.Float(d)); break;
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            default: w.WriteStringValue((string)v); break;
        }
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
        var values = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                values[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetValue(1);
        if (values.Count == 0) return null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions with { Indented = true }))
        {
            w.WriteStartObject();
            // In declaration order, primary key first.
            foreach (var f in cls.Features.OrderByDescending(f => f.Primary))
                if (values.TryGetValue(f.Fqn, out var stored))
                {
                    w.WritePropertyName(f.Fqn);
                    if (stored is string json && f.Type.Kind is TypeKind.List or TypeKind.Struct) w.WriteRawValue(json);
                    else FeatureJson.WriteRow(w, RowValue(stored, f.Type), f.Type);
                }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A stored SQLite value back in row form.</summary>
    private static object? RowValue(object? stored, DataType type) => stored switch
    {
        null => null,
        long l => type.Kind switch { TypeKind.Bool => l != 0, TypeKind.Date => (int)l, TypeKind.Float64 => (double)l, _ => l },
        string text when type.Kind == TypeKind.Bytes => Convert.FromBase64String(text),
        string text when type.Kind == TypeKind.Float64 =>
            Sluice.Kernels.Functions.TextFormat.TryParseFloat64(System.Text.Encoding.UTF8.GetBytes(text), out var d) ? d : null,
        _ => stored,
    };

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_upsert is not null) await _upsert.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
