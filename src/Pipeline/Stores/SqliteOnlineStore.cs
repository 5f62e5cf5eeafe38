using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using SQLitePCL;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// The embedded online store: one SQLite table per feature class (named by its namespace, e.g. <c>user</c>), one row per
/// entity keyed by the primary feature, and per feature three columns: its value, its feature time (<c>name__ts</c>) and
/// its expiry (<c>name__exp</c>, microseconds). The upsert replaces a feature only when the incoming feature time is not
/// older, feature by feature, so an older message never overwrites a newer value and resolvers writing different features
/// of one class never clobber each other. <c>max_staleness</c> is counted from the write.
/// One transaction per batch; rows are bound straight from the Arrow columns to one prepared statement.
/// </summary>
public sealed class SqliteOnlineStore : IOnlineStore
{
    private readonly SqliteFile _file;
    private readonly TimeProvider _clock;
    private readonly HashSet<string> _readyTables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (sqlite3_stmt Statement, FeaturePlan[] Features)> _upserts = new(StringComparer.Ordinal);

    private SqliteOnlineStore(SqliteFile file, TimeProvider clock)
    {
        _file = file;
        _clock = clock;
    }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteOnlineStore> OpenAsync(string path, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        // page_size applies to a new file only (before WAL fixes it): large pages suit key-ordered group upserts.
        var file = await SqliteFile.OpenAsync(path, "online store", "PRAGMA cache_size = -131072;", cancellationToken, pageSize: 65536);
        return new SqliteOnlineStore(file, clock ?? TimeProvider.System);
    }

    // One connection: groups written from several graphs (or threads) take turns.
    private readonly Lock _writeLock = new();

    /// <summary>
    /// Writes the group in one transaction; durable (WAL, synchronous=NORMAL) when this returns. Group commit is what
    /// makes SQLite fast here: a random-key upsert dirties one B-tree page per row, and every commit writes each dirty
    /// page to the WAL, so the cost per row falls as groups grow; rows go in key order (see <see cref="InKeyOrder"/>).
    /// </summary>
    public Task WriteAsync(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default)
    {
        Write(group, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>The synchronous <see cref="WriteAsync"/>.</summary>
    public void Write(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default)
    {
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        var staged = group.Where(x => x.Features.Length > 0)
            .Select(x => (x.Plan, x.Features, ExpiresAt: x.Plan.Class.ExpiresAt(now)))
            .ToList();
        if (staged.Count == 0) return;
        cancellationToken.ThrowIfCancellationRequested();
        lock (_writeLock)
        {
            _file.InTransaction(() =>
            {
                foreach (var cls in staged.GroupBy(x => x.Plan.Class.Namespace, StringComparer.Ordinal))
                {
                    EnsureTable(cls.First().Plan.Class);
                    var parts = cls.Select(x => new Part(x.Plan, x.Features, x.ExpiresAt, Upsert(x.Plan, x.Features.Schema))).ToArray();
                    foreach (var (part, row) in InKeyOrder(parts)) WriteRow(part, row);
                }
            });
        }
    }

    /// <summary>
    /// The rows of a group in primary-key order (staging order among equal keys, so the last write of a key still wins
    /// a tie on feature time). Upserts in key order walk the B-tree instead of jumping around it: with 64 KiB pages
    /// that measured 2.6 us per row against 7 us in staging order (1M random int64 keys, 131,072-row commits).
    /// Keys other than int64 and string go in staging order.
    /// </summary>
    private static IEnumerable<(Part Part, int Row)> InKeyOrder(Part[] parts)
    {
        if (parts[0].Key is Int64Array) return MergedInt64(parts);
        var rows = new (Part Part, int Row)[parts.Sum(p => p.Features.Length)];
        int n = 0;
        foreach (var part in parts)
            for (int r = 0; r < part.Features.Length; r++) rows[n++] = (part, r);
        switch (parts[0].Key)
        {
            case StringArray:
                var texts = new (string Key, int Order)[rows.Length];
                for (int i = 0; i < rows.Length; i++) texts[i] = (((StringArray)rows[i].Part.Key).GetString(rows[i].Row) ?? "", i);
                System.Array.Sort(texts, (a, b) => string.CompareOrdinal(a.Key, b.Key) is var c && c != 0 ? c : a.Order.CompareTo(b.Order));
                return texts.Select(x => rows[x.Order]);
            default:
                return rows;
        }
    }

    /// <summary>
    /// Int64 keys: each batch sorted on its own, then the sorted batches merged. Reading a row touches one batch's columns
    /// (cache-sized) instead of jumping across the whole group's memory: the store alone measured 6.37 us/row with one
    /// global sort, against the 3.08 us of the same upserts from contiguous memory.
    /// </summary>
    private static IEnumerable<(Part Part, int Row)> MergedInt64(Part[] parts)
    {
        var runs = new (long Key, int Row)[parts.Length][];
        var queue = new PriorityQueue<int, (long Key, int Part)>();
        for (int p = 0; p < parts.Length; p++)
        {
            var keys = (Int64Array)parts[p].Key;
            var run = runs[p] = new (long, int)[parts[p].Features.Length];
            for (int r = 0; r < run.Length; r++) run[r] = (keys.GetValue(r) ?? long.MinValue, r);
            System.Array.Sort(run); // by key, then row: equal keys keep their order within a batch
            if (run.Length > 0) queue.Enqueue(p, (run[0].Key, p)); // equal keys across batches: the earlier batch first
        }
        var next = new int[parts.Length];
        while (queue.TryDequeue(out int p, out _))
        {
            var run = runs[p];
            yield return (parts[p], run[next[p]].Row);
            if (++next[p] < run.Length) queue.Enqueue(p, (run[next[p]].Key, p));
        }
    }

    private sealed record Part(ResolverPlan Plan, RecordBatch Features, long? ExpiresAt, (sqlite3_stmt Statement, FeaturePlan[] Features) Upsert)
    {
        public IArrowArray Key { get; } = Features.Column(Plan.Class.Primary.Fqn);
        public DataType KeyType { get; } = Plan.Class.Primary.Type;
        public TimestampArray Time { get; } = (TimestampArray)Features.Column("__ts__");
        public (IArrowArray Column, DataType Type)[] Columns { get; } =
            Upsert.Features.Select(f => (Features.Column(f.Fqn), f.Type)).ToArray();
    }

    private void WriteRow(Part part, int r)
    {
        var stmt = part.Upsert.Statement;
        int rc = Bind(stmt, 1, part.Key, r, part.KeyType)
            | raw.sqlite3_bind_int64(stmt, 2, part.Time.Values[r])
            | (part.ExpiresAt is { } e ? raw.sqlite3_bind_int64(stmt, 3, e) : raw.sqlite3_bind_null(stmt, 3));
        var columns = part.Columns;
        for (int c = 0; c < columns.Length; c++) rc |= Bind(stmt, 4 + c, columns[c].Column, r, columns[c].Type);
        if (rc != raw.SQLITE_OK) throw _file.Error(rc, $"binding the values of {part.Plan.Class.Primary.Fqn} = {KeyText(part.Key, r, part.KeyType)}");
        rc = raw.sqlite3_step(stmt);
        raw.sqlite3_reset(stmt);
        if (rc != raw.SQLITE_DONE) throw _file.Error(rc, $"writing {part.Plan.Class.Primary.Fqn} = {KeyText(part.Key, r, part.KeyType)}");
    }

    private void EnsureTable(FeatureClassPlan cls)
    {
        if (_readyTables.Contains(cls.Namespace)) return;
        var pk = cls.Primary;
        var existing = new HashSet<string>(StringComparer.Ordinal);
        using (var cmd = _file.Connection.CreateCommand())
        {
            cmd.CommandText = $"CREATE TABLE IF NOT EXISTS {Quote(cls.Namespace)} ({Quote(pk.Name)} {Affinity(pk.Type)} PRIMARY KEY NOT NULL)";
            cmd.ExecuteNonQuery();
            cmd.CommandText = $"SELECT name FROM pragma_table_info({Literal(cls.Namespace)})";
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) existing.Add(reader.GetString(0));
        }
        // Features added to the class since the table was made become new columns; old columns stay readable.
        foreach (var feature in cls.Features.Where(x => !x.Primary && !existing.Contains(x.Name)))
        {
            using var cmd = _file.Connection.CreateCommand();
            cmd.CommandText = $"""
                ALTER TABLE {Quote(cls.Namespace)} ADD COLUMN {Quote(feature.Name)};
                ALTER TABLE {Quote(cls.Namespace)} ADD COLUMN {Quote(feature.Name + "__ts")} INTEGER;
                ALTER TABLE {Quote(cls.Namespace)} ADD COLUMN {Quote(feature.Name + "__exp")} INTEGER;
                """;
            cmd.ExecuteNonQuery();
        }
        _readyTables.Add(cls.Namespace);
    }

    /// <summary>One prepared upsert per resolver: ?1 primary key, ?2 feature time, ?3 expiry, ?4.. the features in <c>Features</c> order.</summary>
    private (sqlite3_stmt Statement, FeaturePlan[] Features) Upsert(ResolverPlan plan, Schema schema)
    {
        if (_upserts.TryGetValue(plan.Name, out var cached)) return cached;
        var cls = plan.Class;
        var features = schema.FieldsList.Select(x => x.Name).Where(n => n != "__ts__" && n != cls.Primary.Fqn)
            .Select(n => cls.Features.First(p => p.Fqn == n)).ToArray();
        var columns = new List<string> { Quote(cls.Primary.Name) };
        var values = new List<string> { "?1" };
        var updates = new List<string>();
        for (int i = 0; i < features.Length; i++)
        {
            string v = Quote(features[i].Name), t = Quote(features[i].Name + "__ts"), x = Quote(features[i].Name + "__exp");
            columns.AddRange([v, t, x]);
            values.AddRange([$"?{4 + i}", "?2", "?3"]);
            // SET sees the old row on every right-hand side, so the three guards agree.
            string newer = $"{t} IS NULL OR excluded.{t} >= {t}";
            updates.Add($"{v} = CASE WHEN {newer} THEN excluded.{v} ELSE {v} END");
            updates.Add($"{x} = CASE WHEN {newer} THEN excluded.{x} ELSE {x} END");
            updates.Add($"{t} = CASE WHEN {newer} THEN excluded.{t} ELSE {t} END");
        }
        var sql = $"INSERT INTO {Quote(cls.Namespace)} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", values)})"
            + (updates.Count == 0 ? " ON CONFLICT DO NOTHING" : $" ON CONFLICT ({Quote(cls.Primary.Name)}) DO UPDATE SET {string.Join(", ", updates)}");
        var stmt = _file.Prepare(sql);
        var entry = (stmt, features);
        _upserts[plan.Name] = entry;
        return entry;
    }

    /// <summary>
    /// Binds one value as stored: integers (int64, enum, timestamp micros, date days, bool 0/1), reals, text, blobs;
    /// lists and structs as JSON text; non-finite floats as text (SQLite turns NaN into NULL); <see cref="RowValue"/> reverses it.
    /// </summary>
    private static int Bind(sqlite3_stmt stmt, int index, IArrowArray column, int row, DataType type)
    {
        if (column.IsNull(row)) return raw.sqlite3_bind_null(stmt, index);
        switch (column)
        {
            case Int64Array a: return raw.sqlite3_bind_int64(stmt, index, a.Values[row]);
            case TimestampArray a: return raw.sqlite3_bind_int64(stmt, index, a.Values[row]);
            case Date32Array a: return raw.sqlite3_bind_int64(stmt, index, a.Values[row]);
            case Int32Array a: return raw.sqlite3_bind_int64(stmt, index, a.Values[row]);
            case DoubleArray a when double.IsFinite(a.Values[row]): return raw.sqlite3_bind_double(stmt, index, a.Values[row]);
            case DoubleArray a: return raw.sqlite3_bind_text(stmt, index, TextFormat.Float(a.Values[row]));
            case BooleanArray a: return raw.sqlite3_bind_int(stmt, index, BitUtility.GetBit(a.ValueBuffer.Span, a.Offset + row) ? 1 : 0);
            // An empty span would bind NULL; bind the empty string itself.
            case StringArray a:
                var text = a.GetBytes(row);
                return text.IsEmpty ? raw.sqlite3_bind_text(stmt, index, "") : raw.sqlite3_bind_text(stmt, index, text);
            case BinaryArray a:
                var blob = a.GetBytes(row);
                return blob.IsEmpty ? raw.sqlite3_bind_zeroblob(stmt, index, 0) : raw.sqlite3_bind_blob(stmt, index, blob);
            default: return raw.sqlite3_bind_text(stmt, index, FeatureJson.ToJson(column, row, type));
        }
    }

    /// <summary>The primary key as text (as <c>sluice get</c> takes it): the integer or the text itself, bytes as base64.</summary>
    private static string KeyText(IArrowArray column, int row, DataType type) =>
        ArrowValues.GetRow(column, row, type) switch
        {
            long l => l.ToString(CultureInfo.InvariantCulture),
            byte[] b => Convert.ToBase64String(b),
            var v => v?.ToString() ?? "",
        };

    /// <summary>The unexpired values of one entity, keyed by FQN, as a JSON object text; null when none.</summary>
    public async Task<string?> GetAsync(FeatureClassPlan cls, string primaryKey, CancellationToken cancellationToken = default)
    {
        object key;
        switch (cls.Primary.Type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum:
                if (!long.TryParse(primaryKey, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return null;
                key = l;
                break;
            case TypeKind.Bytes:
                try { key = Convert.FromBase64String(primaryKey); }
                catch (FormatException) { return null; }
                break;
            default: key = primaryKey; break;
        }
        await using var cmd = _file.Connection.CreateCommand();
        cmd.CommandText = "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = $t";
        cmd.Parameters.AddWithValue("$t", cls.Namespace);
        if ((long)(await cmd.ExecuteScalarAsync(cancellationToken))! == 0) return null;
        cmd.Parameters.Clear();
        cmd.CommandText = $"SELECT * FROM {Quote(cls.Namespace)} WHERE {Quote(cls.Primary.Name)} = $pk";
        cmd.Parameters.AddWithValue("$pk", key);
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
            var ordinals = Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => i, StringComparer.Ordinal);
            foreach (var f in cls.Features.Where(x => !x.Primary && ordinals.ContainsKey(x.Name + "__ts")))
            {
                int t = ordinals[f.Name + "__ts"], x = ordinals[f.Name + "__exp"], v = ordinals[f.Name];
                if (reader.IsDBNull(t)) continue; // never written
                if (!reader.IsDBNull(x) && reader.GetInt64(x) <= now) continue; // expired
                values[f.Fqn] = reader.IsDBNull(v) ? null : reader.GetValue(v);
            }
        }
        if (values.Count == 0 && cls.Features.Any(f => !f.Primary)) return null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions with { Indented = true }))
        {
            w.WriteStartObject();
            w.WritePropertyName(cls.Primary.Fqn);
            FeatureJson.WriteRow(w, key, cls.Primary.Type);
            foreach (var f in cls.Features.Where(x => !x.Primary))
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
        string text when type.Kind == TypeKind.Float64 =>
            TextFormat.TryParseFloat64(System.Text.Encoding.UTF8.GetBytes(text), out var d) ? d : null,
        _ => stored,
    };

    private static string Affinity(DataType type) => type.Kind switch
    {
        TypeKind.Int64 or TypeKind.Enum or TypeKind.Timestamp or TypeKind.Date or TypeKind.Bool => "INTEGER",
        TypeKind.Bytes => "BLOB",
        TypeKind.Float64 => "REAL",
        _ => "TEXT",
    };

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var (stmt, _) in _upserts.Values) stmt.Dispose();
        _upserts.Clear();
        await _file.Connection.DisposeAsync();
    }
}
