using System.Globalization;
using System.Text.Json;
using Apache.Arrow;
using SQLitePCL;
using Sluice.Clients;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// The embedded online store: one SQLite table per feature class (named by its namespace, e.g. <c>user</c>), one row per
/// entity keyed by the primary feature, and per feature three columns: its value, its feature time (<c>name__ts</c>) and
/// its expiry (<c>name__exp</c>, microseconds). The upsert replaces a feature only when the incoming feature time is not
/// older, feature by feature, so an older message never overwrites a newer value and resolvers writing different features
/// of one class never clobber each other. <c>max_staleness</c> is counted from the write.
/// One transaction per group of batches; each batch is put in key order and gathered into compact columns when the graph
/// stages it (see <see cref="Part"/>), and the group commit merges them and binds them, 32 rows to a prepared statement.
/// </summary>
internal sealed class SqliteOnlineStore : IOnlineStore, IStagingOnlineStore
{
    private readonly SqliteFile _file;
    private readonly TimeProvider _clock;
    private readonly HashSet<string> _readyTables = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Resolver, int Rows), sqlite3_stmt> _upserts = new();

    private SqliteOnlineStore(SqliteFile file, TimeProvider clock)
    {
        _file = file;
        _clock = clock;
    }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteOnlineStore> OpenAsync(string path, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        // page_size applies to a new file only (before WAL fixes it): large pages suit key-ordered group upserts.
        // Writes run one group at a time under _writeLock, so they can go through a writer connection of their own,
        // without SQLite's mutex (see SqliteFile); reads (GetAsync) use the other connection.
        var file = await SqliteFile.OpenAsync(path, "online store", "PRAGMA cache_size = -131072;", cancellationToken, pageSize: 65536, ownWriter: true);
        return new SqliteOnlineStore(file, clock ?? TimeProvider.System);
    }

    // One connection: groups written from several graphs (or threads) take turns.
    private readonly Lock _writeLock = new();

    /// <summary>
    /// Writes the group in one transaction; durable past a machine crash (WAL, synchronous=FULL) when this returns. Group commit is what
    /// makes SQLite fast here: a random-key upsert dirties one B-tree page per row, and every commit writes each dirty
    /// page to the WAL, so the cost per row falls as groups grow; rows go in key order (see <see cref="InKeyOrder"/>).
    /// </summary>
    public Task WriteAsync(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default)
    {
        Write(group, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>The synchronous <see cref="WriteAsync"/>.</summary>
    public void Write(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default) =>
        WriteStaged(group.Select(x => new Part(x.Plan, x.Features)).ToList(), cancellationToken);

    /// <inheritdoc/>
    object IStagingOnlineStore.Stage(ResolverPlan plan, RecordBatch features) => new Part(plan, features);

    /// <inheritdoc/>
    Task IStagingOnlineStore.WriteStagedAsync(IReadOnlyList<object> staged, CancellationToken cancellationToken)
    {
        WriteStaged(staged.Cast<Part>().ToList(), cancellationToken);
        return Task.CompletedTask;
    }

    private void WriteStaged(List<Part> staged, CancellationToken cancellationToken)
    {
        staged.RemoveAll(p => p.Count == 0);
        if (staged.Count == 0) return;
        cancellationToken.ThrowIfCancellationRequested();
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        lock (_writeLock)
        {
            _file.InTransaction(() =>
            {
                foreach (var cls in staged.GroupBy(x => x.Plan.Class.Namespace, StringComparer.Ordinal))
                {
                    EnsureTable(cls.First().Plan.Class);
                    var parts = cls.ToArray();
                    long? expiresAt = parts[0].Plan.Class.ExpiresAt(now);
                    // Consecutive rows of one resolver go out together, RowsPerStatement to a statement.
                    var chunk = new (int Part, int Row)[RowsPerStatement];
                    int n = 0;
                    foreach (var next in InKeyOrder(parts))
                    {
                        if (n > 0 && parts[next.Part].Plan != parts[chunk[0].Part].Plan)
                        {
                            WriteRows(parts, chunk.AsSpan(0, n), expiresAt);
                            n = 0;
                        }
                        chunk[n++] = next;
                        if (n == RowsPerStatement)
                        {
                            WriteRows(parts, chunk, expiresAt);
                            n = 0;
                        }
                    }
                    if (n > 0) WriteRows(parts, chunk.AsSpan(0, n), expiresAt);
                }
            });
        }
    }

    /// <summary>
    /// The rows of a group in primary-key order (staging order among equal keys, so the last write of a key still wins
    /// a tie on feature time). Upserts in key order walk the B-tree instead of jumping around it: with 64 KiB pages
    /// that measured 2.6 us per row against 7 us in staging order (1M random int64 keys, 131,072-row commits).
    /// Each part is already in key order (see <see cref="Part"/>): int64 keys and string keys merge the parts; other
    /// keys go in staging order.
    /// </summary>
    private static IEnumerable<(int Part, int Row)> InKeyOrder(Part[] parts)
    {
        if (parts.Length == 1)
        {
            for (int i = 0; i < parts[0].Count; i++) yield return (0, i);
            yield break;
        }
        if (parts[0].Key is SortedColumn.Integers)
        {
            var merge = new Merge(parts.Select(p => ((SortedColumn.Integers)p.Key).Values).ToArray());
            while (merge.Next(out int part, out int row)) yield return (part, row);
            yield break;
        }
        if (parts[0].Key is SortedColumn.Bytes { IsText: true })
        {
            // Each part is in key order (by UTF-8 bytes): merged through a heap of part numbers ordered by each part's
            // current key, ties by part (staging order); a part is in the heap once, so its key does not change there.
            var next = new int[parts.Length];
            ReadOnlySpan<byte> Head(int p) => ((SortedColumn.Bytes)parts[p].Key).Span(next[p]);
            var heads = new PriorityQueue<int, int>(Comparer<int>.Create((a, b) => Head(a).SequenceCompareTo(Head(b)) is var c && c != 0 ? c : a.CompareTo(b)));
            for (int p = 0; p < parts.Length; p++)
                if (parts[p].Count > 0) heads.Enqueue(p, p);
            while (heads.TryDequeue(out int part, out _))
            {
                yield return (part, next[part]++);
                if (next[part] < parts[part].Count) heads.Enqueue(part, part);
            }
            yield break;
        }
        for (int p = 0; p < parts.Length; p++)
            for (int i = 0; i < parts[p].Count; i++) yield return (p, i);
    }

    /// <summary>
    /// A k-way merge of sorted int64 runs by a binary heap of run numbers ordered by (current key, run): equal keys come
    /// out in run (staging) order. Each heap slot carries its run's current key, so a comparison reads one array.
    /// </summary>
    private sealed class Merge
    {
        private readonly long[][] _runs;
        private readonly int[] _next;
        private readonly int[] _heap;
        private readonly long[] _keys; // the current key of the run in the same heap slot
        private int _size;

        public Merge(long[][] runs)
        {
            _runs = runs;
            _next = new int[runs.Length];
            _heap = new int[runs.Length];
            _keys = new long[runs.Length];
            for (int r = 0; r < runs.Length; r++)
                if (runs[r].Length > 0) Push(r, runs[r][0]);
        }

        public bool Next(out int run, out int row)
        {
            if (_size == 0)
            {
                run = row = -1;
                return false;
            }
            run = _heap[0];
            row = _next[run]++;
            var keys = _runs[run];
            if (_next[run] < keys.Length) _keys[0] = keys[_next[run]];
            else
            {
                _size--;
                _heap[0] = _heap[_size];
                _keys[0] = _keys[_size];
            }
            if (_size > 1) Down();
            return true;
        }

        private bool Less(int a, int b) => _keys[a] < _keys[b] || (_keys[a] == _keys[b] && _heap[a] < _heap[b]);

        private void Swap(int a, int b)
        {
            (_heap[a], _heap[b]) = (_heap[b], _heap[a]);
            (_keys[a], _keys[b]) = (_keys[b], _keys[a]);
        }

        private void Push(int run, long key)
        {
            int i = _size++;
            _heap[i] = run;
            _keys[i] = key;
            while (i > 0 && Less(i, (i - 1) / 2))
            {
                Swap(i, (i - 1) / 2);
                i = (i - 1) / 2;
            }
        }

        private void Down()
        {
            int i = 0;
            while (true)
            {
                int l = 2 * i + 1, r = l + 1, m = i;
                if (l < _size && Less(l, m)) m = l;
                if (r < _size && Less(r, m)) m = r;
                if (m == i) return;
                Swap(i, m);
                i = m;
            }
        }
    }

    /// <summary>
    /// One batch of a group, ready to bind: its rows gathered in primary-key order (stable) into compact columns, so
    /// that the upsert loop reads memory front to back instead of jumping around the staged batches (the gather touches
    /// one batch at a time). Measured on the replay benchmark's 1M users (perf replay-stages, 131,072-row commits):
    /// 4.4-5.4 us/row reading the Arrow batches in merged key order, 3.4-3.8 us/row with the gathered columns. Built when
    /// the graph stages the batch (<see cref="IStagingOnlineStore"/>), outside the group commit.
    /// </summary>
    private sealed class Part
    {
        public Part(ResolverPlan plan, RecordBatch features)
        {
            Plan = plan;
            Count = features.Length;
            var key = features.Column(plan.Class.Primary.Fqn);
            var order = KeyOrder(key, Count);
            Features = OnlineRows.ValueFeatures(plan, features.Schema);
            Key = SortedColumn.Gather(key, order, plan.Class.Primary.Type);
            Time = (SortedColumn.Integers)SortedColumn.Gather(features.Column("__ts__"), order, DataType.Timestamp);
            Columns = Features.Select(f => SortedColumn.Gather(features.Column(f.Fqn), order, f.Type)).ToArray();
        }

        public ResolverPlan Plan { get; }
        public int Count { get; }
        /// <summary>The features bound after the key, time and expiry, in <see cref="Columns"/> order.</summary>
        public FeaturePlan[] Features { get; }
        public SortedColumn Key { get; }
        public SortedColumn.Integers Time { get; }
        public SortedColumn[] Columns { get; }

        /// <summary>Row numbers in key order, ties in row order; staging order for keys that do not sort here.</summary>
        private static int[] KeyOrder(IArrowArray key, int count)
        {
            var order = new int[count];
            for (int i = 0; i < count; i++) order[i] = i;
            switch (key)
            {
                case Int64Array ints:
                    var pairs = new (long Key, int Row)[count];
                    var values = ints.Values;
                    for (int i = 0; i < count; i++) pairs[i] = (ints.IsNull(i) ? long.MinValue : values[i], i);
                    System.Array.Sort(pairs); // by key, then row
                    for (int i = 0; i < count; i++) order[i] = pairs[i].Row;
                    break;
                case StringArray texts:
                    System.Array.Sort(order, (a, b) => texts.GetBytes(a).SequenceCompareTo(texts.GetBytes(b)) is var c && c != 0 ? c : a.CompareTo(b));
                    break;
            }
            return order;
        }
    }

    /// <summary>
    /// Rows per upsert statement (a multi-row VALUES): one execution per row spent much of the write binding, starting
    /// and ending statements; the replay benchmark went from 220-242k to 289-306k msgs/s with 32 (16 to 128 alike).
    /// </summary>
    private const int RowsPerStatement = 32;

    /// <summary>Upserts <paramref name="rows"/> (all of one resolver) with one statement: a full chunk's, or one row at a time.</summary>
    private void WriteRows(Part[] parts, ReadOnlySpan<(int Part, int Row)> rows, long? expiresAt)
    {
        var plan = parts[rows[0].Part].Plan;
        if (rows.Length == RowsPerStatement) Write(parts, rows, Upsert(plan, parts[rows[0].Part].Features, RowsPerStatement), expiresAt);
        else
        {
            var single = Upsert(plan, parts[rows[0].Part].Features, 1);
            for (int i = 0; i < rows.Length; i++) Write(parts, rows.Slice(i, 1), single, expiresAt);
        }
    }

    private void Write(Part[] parts, ReadOnlySpan<(int Part, int Row)> rows, sqlite3_stmt stmt, long? expiresAt)
    {
        // The store owns its statements until it is disposed, which never happens during a write.
        var handle = stmt.DangerousGetHandle();
        int rc = raw.SQLITE_OK;
        int index = 1;
        foreach (var (p, r) in rows)
        {
            var part = parts[p];
            rc |= part.Key.Bind(handle, index, r)
                | SqliteNative.BindInt64(handle, index + 1, part.Time.Values[r])
                | (expiresAt is { } e ? SqliteNative.BindInt64(handle, index + 2, e) : SqliteNative.BindNull(handle, index + 2));
            var columns = part.Columns;
            for (int c = 0; c < columns.Length; c++) rc |= columns[c].Bind(handle, index + 3 + c, r);
            index += 3 + columns.Length;
        }
        if (rc != raw.SQLITE_OK) throw _file.Error(rc, $"binding the values of {Describe(parts, rows)}");
        rc = SqliteNative.Step(handle);
        SqliteNative.Reset(handle);
        if (rc != raw.SQLITE_DONE) throw _file.Error(rc, $"writing {Describe(parts, rows)}");
    }

    private static string Describe(Part[] parts, ReadOnlySpan<(int Part, int Row)> rows)
    {
        var first = parts[rows[0].Part];
        return $"{first.Plan.Class.Primary.Fqn} = {first.Key.Text(rows[0].Row)}" + (rows.Length > 1 ? $" and the {rows.Length - 1} keys after it" : "");
    }

    private void EnsureTable(FeatureClassPlan cls)
    {
        if (_readyTables.Contains(cls.Namespace)) return;
        var pk = cls.Primary;
        _file.Exec($"CREATE TABLE IF NOT EXISTS {Quote(cls.Namespace)} ({Quote(pk.Name)} {Affinity(pk.Type)} PRIMARY KEY NOT NULL)");
        var existing = new HashSet<string>(StringComparer.Ordinal);
        using (var columns = _file.Prepare($"SELECT name FROM pragma_table_info({Literal(cls.Namespace)})"))
        {
            int rc;
            while ((rc = raw.sqlite3_step(columns)) == raw.SQLITE_ROW) existing.Add(raw.sqlite3_column_text(columns, 0).utf8_to_string());
            if (rc != raw.SQLITE_DONE) throw _file.Error(rc, $"reading the columns of table {cls.Namespace}");
        }
        // Features added to the class since the table was made become new columns; old columns stay readable.
        foreach (var feature in cls.Features.Where(x => !x.Primary && !existing.Contains(x.Name)))
            _file.Exec($"""
                ALTER TABLE {Quote(cls.Namespace)} ADD COLUMN {Quote(feature.Name)};
                ALTER TABLE {Quote(cls.Namespace)} ADD COLUMN {Quote(feature.Name + "__ts")} INTEGER;
                ALTER TABLE {Quote(cls.Namespace)} ADD COLUMN {Quote(feature.Name + "__exp")} INTEGER;
                """);
        _readyTables.Add(cls.Namespace);
    }

    /// <summary>
    /// The prepared upsert of <paramref name="rows"/> rows for a resolver: row j's parameters start at j * (3 + k) + 1 with
    /// its primary key, then feature time, expiry and the k features in <paramref name="features"/> order.
    /// </summary>
    private sqlite3_stmt Upsert(ResolverPlan plan, FeaturePlan[] features, int rows)
    {
        if (_upserts.TryGetValue((plan.Name, rows), out var cached)) return cached;
        var cls = plan.Class;
        var columns = new List<string> { Quote(cls.Primary.Name) };
        var updates = new List<string>();
        foreach (var f in features)
        {
            string v = Quote(f.Name), t = Quote(f.Name + "__ts"), x = Quote(f.Name + "__exp");
            columns.AddRange([v, t, x]);
            // SET sees the old row on every right-hand side, so the three guards agree.
            string newer = $"{t} IS NULL OR excluded.{t} >= {t}";
            updates.Add($"{v} = CASE WHEN {newer} THEN excluded.{v} ELSE {v} END");
            updates.Add($"{x} = CASE WHEN {newer} THEN excluded.{x} ELSE {x} END");
            updates.Add($"{t} = CASE WHEN {newer} THEN excluded.{t} ELSE {t} END");
        }
        int width = 3 + features.Length;
        var tuples = Enumerable.Range(0, rows).Select(j =>
        {
            int b = j * width;
            var values = new List<string> { $"?{b + 1}" };
            for (int i = 0; i < features.Length; i++) values.AddRange([$"?{b + 4 + i}", $"?{b + 2}", $"?{b + 3}"]);
            return "(" + string.Join(", ", values) + ")";
        });
        var sql = $"INSERT INTO {Quote(cls.Namespace)} ({string.Join(", ", columns)}) VALUES {string.Join(", ", tuples)}"
            + (updates.Count == 0 ? " ON CONFLICT DO NOTHING" : $" ON CONFLICT ({Quote(cls.Primary.Name)}) DO UPDATE SET {string.Join(", ", updates)}");
        var stmt = _file.Prepare(sql);
        _upserts[(plan.Name, rows)] = stmt;
        return stmt;
    }

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
        foreach (var stmt in _upserts.Values) stmt.Dispose();
        _upserts.Clear();
        await _file.DisposeAsync();
    }
}
