using System.Globalization;
using Apache.Arrow;
using Parquet;
using Parquet.Schema;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using ParquetField = Parquet.Schema.Field;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// The offline store (DESIGN.md section 4): Parquet files under <c>&lt;root&gt;/&lt;namespace&gt;/date=YYYY-MM-DD/</c>,
/// one row per resolved message, columns = FQNs + <c>__ts__</c> (feature time, timestamp micros UTC) +
/// <c>__resolver__</c>. Batches are gathered into row groups of <see cref="RowGroupRows"/> rows; a file is closed (and so readable) when it reaches
/// <see cref="MaxRowsPerFile"/> rows or <see cref="MaxFileAge"/>, and on dispose. Lists and structs are stored as JSON text.
/// </summary>
public sealed class ParquetOfflineStore(string root) : IAsyncDisposable
{
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
    /// they went into: the rows are durable once <see cref="TakeClosed"/> has returned each of those keys.
    /// </summary>
    public async Task<IReadOnlyList<string>> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
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
            await group.WriteAsync(fields[^1], Enumerable.Repeat(plan.Name, file.PendingRows).ToArray());
        }
        file.Pending.Clear();
        file.PendingRows = 0;
    }

    /// <summary>The keys of the files closed (complete and renamed) since the last call.</summary>
    public IReadOnlyList<string> TakeClosed()
    {
        var closed = _closed.ToList();
        _closed.Clear();
        return closed;
    }

    /// <summary>Closes the files open longer than <see cref="MaxFileAge"/> (a live stream that went quiet still gets its rows durable).</summary>
    public async Task CloseExpiredAsync()
    {
        foreach (var (key, file) in _open.ToList())
            if (DateTime.UtcNow - file.Opened >= MaxFileAge) await CloseAsync(key);
    }

    /// <summary>Closes every open file.</summary>
    public async Task CloseAllAsync()
    {
        foreach (var key in _open.Keys.ToList()) await CloseAsync(key);
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

    /// <summary>One column of a row group, gathered from the selected rows of several batches.</summary>
    private static async Task WriteColumn(ParquetRowGroupWriter group, DataField field, List<(IArrowArray Column, int[] Rows)> parts, int count, DataType type)
    {
        switch (type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum:
                await group.WriteAsync(field, (ReadOnlyMemory<long?>)Gather(parts, count, (c, r) => ((Int64Array)c).Values[r]));
                break;
            case TypeKind.Float64:
                await group.WriteAsync(field, (ReadOnlyMemory<double?>)Gather(parts, count, (c, r) => ((DoubleArray)c).Values[r]));
                break;
            case TypeKind.Bool:
                await group.WriteAsync(field, (ReadOnlyMemory<bool?>)Gather(parts, count, (c, r) => ((BooleanArray)c).GetValue(r)!.Value));
                break;
            case TypeKind.Timestamp:
                await group.WriteAsync(field, (ReadOnlyMemory<DateTime?>)Gather(parts, count,
                    (c, r) => new DateTime(DateTime.UnixEpoch.Ticks + ((TimestampArray)c).Values[r] * 10, DateTimeKind.Utc)));
                break;
            case TypeKind.Date:
                int epoch = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
                await group.WriteAsync(field, (ReadOnlyMemory<DateOnly?>)Gather(parts, count, (c, r) => DateOnly.FromDayNumber(epoch + ((Date32Array)c).Values[r])));
                break;
            case TypeKind.Bytes:
                await group.WriteAsync(field, GatherObjects(parts, count, (c, r) => ((BinaryArray)c).GetBytes(r).ToArray()));
                break;
            case TypeKind.String:
                await group.WriteAsync(field, GatherObjects(parts, count, (c, r) => ((StringArray)c).GetString(r)!));
                break;
            default:
                await group.WriteAsync(field, GatherObjects(parts, count, (c, r) => FeatureJson.ToJson(c, r, type)));
                break;
        }
    }

    /// <summary>The selected rows of a primitive column across batches, null where the column is null.</summary>
    private static T?[] Gather<T>(List<(IArrowArray Column, int[] Rows)> parts, int count, Func<IArrowArray, int, T> value) where T : struct
    {
        var result = new T?[count];
        int i = 0;
        foreach (var (column, rows) in parts)
            foreach (var r in rows)
            {
                if (!column.IsNull(r)) result[i] = value(column, r);
                i++;
            }
        return result;
    }

    /// <summary>The selected rows of a reference-typed column across batches, null where the column is null.</summary>
    private static T[] GatherObjects<T>(List<(IArrowArray Column, int[] Rows)> parts, int count, Func<IArrowArray, int, T> value) where T : class
    {
        var result = new T[count];
        int i = 0;
        foreach (var (column, rows) in parts)
            foreach (var r in rows)
                result[i++] = column.IsNull(r) ? null! : value(column, r);
        return result;
    }

    private async Task CloseAsync(string key)
    {
        var file = _open[key];
        _open.Remove(key);
        await FlushAsync(file);
        await file.Writer.DisposeAsync();
        var path = ((FileStream)file.Stream).Name;
        await file.Stream.DisposeAsync();
        // Readers see only complete files: written as .tmp, renamed once the footer is on disk.
        File.Move(path, path[..^4], overwrite: true);
        _closed.Add(key);
    }

    /// <summary>Closes every open file.</summary>
    public async ValueTask DisposeAsync() => await CloseAllAsync();
}
