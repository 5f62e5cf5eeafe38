using System.Globalization;
using Apache.Arrow;
using Parquet;
using Parquet.Schema;
using ParquetField = Parquet.Schema.Field;
using Sluice.Clients;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Sinks;

/// <summary>
/// The offline store (DESIGN.md section 4): Parquet files under <c>&lt;root&gt;/&lt;namespace&gt;/date=YYYY-MM-DD/</c>,
/// one row per resolved message, columns = FQNs + <c>__ts__</c> (feature time, timestamp micros UTC) +
/// <c>__resolver__</c>. Batches are gathered into row groups of <see cref="RowGroupRows"/> rows; a file is closed (and so readable) when it reaches
/// <see cref="MaxRowsPerFile"/> rows or <see cref="MaxFileAge"/>, and on dispose. Lists and structs are stored as JSON text.
/// A file is written as <c>part-*.parquet.tmp</c> and renamed when complete, so readers of <c>*.parquet</c> never see a
/// partial file; the <c>.tmp</c> files a crashed process left are removed when the store opens (their rows were never
/// acknowledged, so the restart reads them again). A writer holds its open file locked, so the files of other live
/// processes sharing the folder are left alone.
/// </summary>
internal sealed class ParquetOfflineStore : IOfflineStore
{
    private readonly string root;

    public ParquetOfflineStore(string root)
    {
        this.root = root;
        // A folder that cannot be made (a file in its place, no permission) is said when the run starts, not at its first row.
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"offline store {root}: cannot create the folder: {e.Message}", e);
        }
        RemovedLeftovers = RemoveLeftovers(root);
    }

    /// <summary>How many partial files of crashed writers were removed when the store opened.</summary>
    public int RemovedLeftovers { get; }

    // A .tmp file that nobody holds open (File.Create locks it: flock on Linux) was left by a writer that died.
    private static int RemoveLeftovers(string root)
    {
        if (!Directory.Exists(root)) return 0;
        int removed = 0;
        foreach (var path in Directory.EnumerateFiles(root, "*.parquet.tmp", SearchOption.AllDirectories))
        {
            try
            {
                using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(path);
                removed++;
            }
            catch (IOException) { } // held by a live writer, or gone meanwhile
        }
        return removed;
    }

    private sealed class OpenFile(Stream stream, ParquetWriter writer, ParquetSchema schema, DateTime opened, ResolverPlan plan)
    {
        public Stream Stream { get; } = stream;
        public ParquetWriter Writer { get; } = writer;
        public ParquetSchema Schema { get; } = schema;
        public DateTime Opened { get; } = opened;
        public ResolverPlan Plan { get; } = plan;
        public long Rows { get; set; }
        /// <summary>Rows waiting for the next row group: batches and which of their rows.</summary>
        public List<(RecordBatch Features, int[] Rows)> Pending { get; } = [];
        public int PendingRows { get; set; }
    }

    private readonly Dictionary<string, OpenFile> _open = new(StringComparer.Ordinal);
    private int _sequence;
    // Several processes (consumers of one group) may write one folder: each names its files with an id of its own.
    private readonly string _instance = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Rows after which a file is closed and a new one started.</summary>
    public long MaxRowsPerFile { get; init; } = 1_000_000;

    /// <summary>Age after which a file is closed and a new one started.</summary>
    public TimeSpan MaxFileAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Rows per row group. Batches wait in memory until a group is full or the file closes (their rows are durable only
    /// then anyway); one row group per 4,096-row batch spent a third of the writer's time on per-group overhead.
    /// </summary>
    public int RowGroupRows { get; init; } = 65_536;

    private readonly List<string> _closed = [];

    /// <summary>
    /// Appends the feature rows of a batch, split by the UTC date of their feature time, and returns the files (by key)
    /// they went into: the rows are durable once <see cref="TakeDurable"/> has returned each of those keys.
    /// </summary>
    public Task<IReadOnlyList<string>> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default) =>
        Failing(() => Write(plan, batch, cancellationToken));

    private async Task<IReadOnlyList<string>> Write(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var f = batch.Features;
        var written = new List<string>();
        if (f.Length == 0) return written;
        var ts = (TimestampArray)f.Column("__ts__");
        foreach (var (dayNumber, rows) in ByDay(ts))
        {
            var date = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)dayNumber).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var dir = Path.Combine(root, plan.Class.Namespace, $"date={date}");
            var key = $"{dir}|{plan.Name}";
            var file = await OpenAsync(key, dir, plan, f, cancellationToken);
            written.Add(key);
            file.Pending.Add((f, rows));
            file.PendingRows += rows.Length;
            file.Rows += rows.Length;
            if (file.PendingRows >= RowGroupRows) await FlushAsync(file);
            if (file.Rows >= MaxRowsPerFile || DateTime.UtcNow - file.Opened >= MaxFileAge) await CloseAsync(key);
        }
        return written;
    }

    private static long Day(long micros) => Math.DivRem(micros, 86_400_000_000L, out long rem) - (rem < 0 ? 1 : 0);

    /// <summary>The batch's rows by UTC day of their feature time; one group without a lookup when all share a day (the usual case).</summary>
    private static IEnumerable<(long Day, int[] Rows)> ByDay(TimestampArray ts)
    {
        var values = ts.Values;
        long first = Day(values[0]);
        bool oneDay = true;
        for (int r = 1; r < values.Length && oneDay; r++) oneDay = Day(values[r]) == first;
        if (oneDay) return [(first, Enumerable.Range(0, values.Length).ToArray())];
        var days = new long[values.Length];
        for (int r = 0; r < days.Length; r++) days[r] = Day(values[r]);
        return Enumerable.Range(0, days.Length).GroupBy(r => days[r]).Select(g => (g.Key, g.ToArray())).ToList();
    }

    /// <summary>Writes the file's waiting rows as one row group.</summary>
    private static async Task FlushAsync(OpenFile file)
    {
        if (file.PendingRows == 0) return;
        var plan = file.Plan;
        using (var group = file.Writer.CreateRowGroup())
        {
            var fields = file.Schema.GetDataFields();
            for (int c = 0; c < fields.Length - 1; c++)
            {
                var name = fields[c].Name;
                var type = name == "__ts__" ? DataType.Timestamp : plan.Class.Features.First(x => x.Fqn == name).Type;
                await WriteColumn(group, fields[c], file.Pending.Select(p => (p.Features.Column(name), p.Rows)).ToList(), file.PendingRows, type);
            }
            var resolver = new ReadOnlyMemory<char>[file.PendingRows];
            System.Array.Fill(resolver, plan.Name.AsMemory());
            await group.WriteAllPartsAsync(fields[^1], (ReadOnlyMemory<ReadOnlyMemory<char>>)resolver, null, null, default);
        }
        file.Pending.Clear();
        file.PendingRows = 0;
    }

    /// <summary>The keys of the files closed (complete and renamed) since the last call.</summary>
    public IReadOnlyList<string> TakeDurable()
    {
        var closed = _closed.ToList();
        _closed.Clear();
        return closed;
    }

    /// <summary>
    /// Closes the files open longer than <see cref="MaxFileAge"/> (a live stream that went quiet still gets its rows
    /// durable), or every open file when <paramref name="all"/>.
    /// </summary>
    public Task FlushAsync(bool all, CancellationToken cancellationToken = default) => Failing(async () =>
    {
        foreach (var (key, file) in _open.ToList())
            if (all || DateTime.UtcNow - file.Opened >= MaxFileAge) await CloseAsync(key);
        return true;
    });

    /// <summary>
    /// Runs store work; a write that fails (a full disk, a folder that became unwritable) abandons every open file:
    /// their rows were never acknowledged, so the partial files are removed (freeing the space) and a restart reads
    /// those rows again. The error names the store and the file.
    /// </summary>
    private async Task<T> Failing<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var file = _open.Values.Select(f => ((FileStream)f.Stream).Name).FirstOrDefault();
            Abandon();
            throw new IOException($"offline store {root}: cannot write{(file is null ? "" : $" {Path.GetFileName(file)}")}: {e.Message.Split(" : '", 2)[0]} " +
                "(rows not yet in a complete file were not acknowledged: a restart reads them again)", e);
        }
    }

    private void Abandon()
    {
        foreach (var file in _open.Values)
        {
            var path = ((FileStream)file.Stream).Name;
            try
            {
                file.Stream.Dispose(); // may fail again (the unwritten buffer): the file is removed either way
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        _open.Clear();
    }

    private async Task<OpenFile> OpenAsync(string key, string dir, ResolverPlan plan, RecordBatch f, CancellationToken ct)
    {
        if (_open.TryGetValue(key, out var open)) return open;
        Directory.CreateDirectory(dir);
        var fields = new List<ParquetField>();
        foreach (var field in f.Schema.FieldsList)
        {
            if (field.Name == "__ts__") continue;
            fields.Add(ParquetFieldOf(field.Name, plan.Class.Features.First(x => x.Fqn == field.Name).Type));
        }
        fields.Add(new DateTimeDataField("__ts__", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: false));
        fields.Add(new DataField("__resolver__", typeof(string), isNullable: false));
        var schema = new ParquetSchema(fields);
        var path = Path.Combine(dir, $"part-{plan.Name}-{DateTime.UtcNow:yyyyMMddHHmmss}-{_instance}-{Interlocked.Increment(ref _sequence):D5}.parquet");
        var stream = File.Create(path + ".tmp");
        var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct);
        return _open[key] = new OpenFile(stream, writer, schema, DateTime.UtcNow, plan);
    }

    private static ParquetField ParquetFieldOf(string name, DataType t) => t.Kind switch
    {
        TypeKind.Int64 or TypeKind.Enum => new DataField(name, typeof(long), isNullable: true),
        TypeKind.Float64 => new DataField(name, typeof(double), isNullable: true),
        TypeKind.Bool => new DataField(name, typeof(bool), isNullable: true),
        TypeKind.Bytes => new DataField(name, typeof(byte[]), isNullable: true),
        TypeKind.Timestamp => new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true),
        TypeKind.Date => new DataField(name, typeof(DateOnly), isNullable: true),
        _ => new DataField(name, typeof(string), isNullable: true), // strings; lists and structs as JSON text
    };

    /// <summary>
    /// One column of a row group, gathered from the selected rows of several batches straight into what Parquet.Net
    /// encodes: the present values and, for an optional column, the definition levels (no nullable-value arrays for it
    /// to unpack, no string per value: text is decoded into one char buffer and passed as slices of it). Each batch's
    /// validity bitmap and value buffer are read directly, once per batch rather than through a call per row.
    /// </summary>
    private static async Task WriteColumn(ParquetRowGroupWriter group, DataField field, List<(IArrowArray Column, int[] Rows)> parts, int count, DataType type)
    {
        if (type.Kind == TypeKind.Timestamp) parts = WithinCalendar(parts, field.IsNullable);
        int[]? levels = field.IsNullable ? new int[count] : null;
        int present = Levels(parts, levels, field.MaxDefinitionLevel);
        ReadOnlyMemory<int>? definitions = null; // (not "levels is null ? null : levels": null converts to an empty memory)
        if (levels is not null) definitions = levels;
        switch (type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<long>)Present<long, long>(parts, present, v => v), definitions, null, default);
                break;
            case TypeKind.Float64:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<double>)Present<double, double>(parts, present, v => v), definitions, null, default);
                break;
            case TypeKind.Bool:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<bool>)Present(parts, present, (c, r) => ((BooleanArray)c).GetValue(r)!.Value), definitions, null, default);
                break;
            case TypeKind.Timestamp:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<DateTime>)Present<long, DateTime>(parts, present,
                    v => new DateTime(DateTime.UnixEpoch.Ticks + v * 10, DateTimeKind.Utc)), definitions, null, default);
                break;
            case TypeKind.Date:
                int epoch = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<DateOnly>)Present<int, DateOnly>(parts, present, v => DateOnly.FromDayNumber(epoch + v)), definitions, null, default);
                break;
            case TypeKind.Bytes:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<ReadOnlyMemory<byte>>)Present(parts, present, (c, r) => (ReadOnlyMemory<byte>)((BinaryArray)c).GetBytes(r).ToArray()), definitions, null, default);
                break;
            case TypeKind.String:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<ReadOnlyMemory<char>>)Utf16(parts, present), definitions, null, default);
                break;
            default:
                await group.WriteAllPartsAsync(field, (ReadOnlyMemory<ReadOnlyMemory<char>>)Present(parts, present, (c, r) => FeatureJson.ToJson(c, r, type).AsMemory()), definitions, null, default);
                break;
        }
    }

    /// <summary>
    /// Timestamps are int64 microseconds and may lie outside the years 1-9999 (F.from_unix_seconds of a huge number);
    /// Parquet.Net writes them as DateTime, which cannot hold those: they are written as null (a feature column) or
    /// clamped to the calendar (the non-null feature time), as the JSON encodings write null for them.
    /// </summary>
    private static List<(IArrowArray Column, int[] Rows)> WithinCalendar(List<(IArrowArray Column, int[] Rows)> parts, bool nullable)
    {
        static bool Outside(TimestampArray a, int r) => a.IsValid(r) && !TextFormat.InCalendar(a.Values[r]);
        if (!parts.Any(p => p.Rows.Any(r => Outside((TimestampArray)p.Column, r)))) return parts;
        return parts.Select(p =>
        {
            var column = (TimestampArray)p.Column;
            if (!p.Rows.Any(r => Outside(column, r))) return p;
            var values = new ArrowBuffer.Builder<long>(column.Length);
            var valid = new ArrowBuffer.BitmapBuilder(column.Length);
            int nulls = 0;
            for (int r = 0; r < column.Length; r++)
            {
                long v = column.Values[r];
                bool keep = column.IsValid(r) && (TextFormat.InCalendar(v) || !nullable);
                values.Append(Math.Clamp(v, TextFormat.MinCalendarMicros, TextFormat.MaxCalendarMicros));
                valid.Append(keep);
                if (!keep) nulls++;
            }
            var type = (Apache.Arrow.Types.TimestampType)column.Data.DataType;
            return ((IArrowArray)new TimestampArray(type, values.Build(), valid.Build(), column.Length, nulls, 0), p.Rows);
        }).ToList();
    }

    /// <summary>Fills the definition levels of the selected rows (an optional column's) and counts the present values.</summary>
    private static int Levels(List<(IArrowArray Column, int[] Rows)> parts, int[]? levels, int defined)
    {
        int present = 0, i = 0;
        foreach (var (column, rows) in parts)
        {
            var valid = ValidityView.Of(column);
            if (valid.AllValid && levels is null)
            {
                present += rows.Length;
                continue;
            }
            foreach (var r in rows)
            {
                bool isPresent = valid.IsValid(r);
                if (levels is not null) levels[i++] = isPresent ? defined : 0;
                if (isPresent) present++;
            }
        }
        return present;
    }

    /// <summary>The non-null values of the selected rows of fixed-width columns across batches, in order, converted.</summary>
    private static TOut[] Present<TIn, TOut>(List<(IArrowArray Column, int[] Rows)> parts, int present, Func<TIn, TOut> convert)
        where TIn : struct, IEquatable<TIn>
    {
        var result = new TOut[present];
        int i = 0;
        foreach (var (column, rows) in parts)
        {
            var values = ((PrimitiveArray<TIn>)column).Values;
            var valid = ValidityView.Of(column);
            foreach (var r in rows)
                if (valid.IsValid(r)) result[i++] = convert(values[r]);
        }
        return result;
    }

    /// <summary>The non-null values of the selected rows across batches, in order (the types without a plain value buffer).</summary>
    private static T[] Present<T>(List<(IArrowArray Column, int[] Rows)> parts, int present, Func<IArrowArray, int, T> value)
    {
        var result = new T[present];
        int i = 0;
        foreach (var (column, rows) in parts)
        {
            var valid = ValidityView.Of(column);
            foreach (var r in rows)
                if (valid.IsValid(r)) result[i++] = value(column, r);
        }
        return result;
    }

    /// <summary>The non-null strings of the selected rows, decoded into one shared char buffer and sliced from it.</summary>
    private static ReadOnlyMemory<char>[] Utf16(List<(IArrowArray Column, int[] Rows)> parts, int present)
    {
        long bytes = 0;
        foreach (var (column, rows) in parts)
        {
            var offsets = ((StringArray)column).ValueOffsets;
            foreach (var r in rows) bytes += offsets[r + 1] - offsets[r];
        }
        var chars = new char[bytes]; // UTF-16 never needs more code units than UTF-8 has bytes
        var result = new ReadOnlyMemory<char>[present];
        int i = 0, at = 0;
        foreach (var (column, rows) in parts)
        {
            var texts = (StringArray)column;
            var offsets = texts.ValueOffsets;
            var data = texts.ValueBuffer.Span;
            var valid = ValidityView.Of(column);
            foreach (var r in rows)
            {
                if (!valid.IsValid(r)) continue;
                int n = System.Text.Encoding.UTF8.GetChars(data[offsets[r]..offsets[r + 1]], chars.AsSpan(at));
                result[i++] = chars.AsMemory(at, n);
                at += n;
            }
        }
        return result;
    }

    private async Task CloseAsync(string key)
    {
        var file = _open[key];
        _open.Remove(key);
        await FlushAsync(file);
        await file.Writer.DisposeAsync();
        var stream = (FileStream)file.Stream;
        // Readers see only complete files: written as .tmp, fsynced with its footer, then renamed and the folder synced
        // (the rows are acknowledged after this, so they must survive the machine losing power).
        stream.Flush(flushToDisk: true);
        await stream.DisposeAsync();
        DurableFiles.Publish(stream.Name, stream.Name[..^4]);
        _closed.Add(key);
    }

    /// <summary>Closes every open file.</summary>
    public async ValueTask DisposeAsync() => await FlushAsync(all: true);
}
