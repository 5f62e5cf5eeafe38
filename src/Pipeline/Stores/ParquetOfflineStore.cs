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
/// <c>__resolver__</c>. Each batch is one row group; a file is closed (and so readable) when it reaches
/// <see cref="MaxRowsPerFile"/> rows or <see cref="MaxFileAge"/>, and on dispose. Lists and structs are stored as JSON text.
/// </summary>
public sealed class ParquetOfflineStore(string root) : IAsyncDisposable
{
    private sealed class OpenFile(Stream stream, ParquetWriter writer, ParquetSchema schema, DateTime opened)
    {
        public Stream Stream { get; } = stream;
        public ParquetWriter Writer { get; } = writer;
        public ParquetSchema Schema { get; } = schema;
        public DateTime Opened { get; } = opened;
        public long Rows { get; set; }
    }

    private readonly Dictionary<string, OpenFile> _open = new(StringComparer.Ordinal);
    private int _sequence;
    // Several processes (consumers of one group) may write one folder: each names its files with an id of its own.
    private readonly string _instance = Guid.NewGuid().ToString("N")[..8];

    /// <summary>Rows after which a file is closed and a new one started.</summary>
    public long MaxRowsPerFile { get; init; } = 1_000_000;

    /// <summary>Age after which a file is closed and a new one started.</summary>
    public TimeSpan MaxFileAge { get; init; } = TimeSpan.FromMinutes(1);

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
        foreach (var day in Enumerable.Range(0, f.Length).GroupBy(r => Math.DivRem(ts.Values[r], 86_400_000_000L, out long rem) - (rem < 0 ? 1 : 0)))
        {
            var rows = day.ToList();
            var date = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)day.Key).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var dir = Path.Combine(root, plan.Class.Namespace, $"date={date}");
            var key = $"{dir}|{plan.Name}";
            var file = await OpenAsync(key, dir, plan, f, cancellationToken);
            written.Add(key);
            using (var group = file.Writer.CreateRowGroup())
            {
                var fields = file.Schema.GetDataFields();
                for (int c = 0; c < fields.Length - 1; c++)
                {
                    var name = fields[c].Name;
                    var type = name == "__ts__" ? DataType.Timestamp : plan.Class.Features.First(x => x.Fqn == name).Type;
                    await WriteColumn(group, fields[c], f.Column(name), rows, type);
                }
                await group.WriteAsync(fields[^1], Enumerable.Repeat(plan.Name, rows.Count).ToArray());
            }
            file.Rows += rows.Count;
            if (file.Rows >= MaxRowsPerFile || DateTime.UtcNow - file.Opened >= MaxFileAge) await CloseAsync(key);
        }
        return written;
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
        return _open[key] = new OpenFile(stream, writer, schema, DateTime.UtcNow);
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

    private static async Task WriteColumn(ParquetRowGroupWriter group, DataField field, IArrowArray column, List<int> rows, DataType type)
    {
        switch (type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum:
                await group.WriteAsync(field, (ReadOnlyMemory<long?>)Gather(rows, column, ((Int64Array)column).Values.ToArray()));
                break;
            case TypeKind.Float64:
                await group.WriteAsync(field, (ReadOnlyMemory<double?>)Gather(rows, column, ((DoubleArray)column).Values.ToArray()));
                break;
            case TypeKind.Bool:
                var bools = (BooleanArray)column;
                await group.WriteAsync(field, (ReadOnlyMemory<bool?>)Gather(rows, r => bools.GetValue(r)));
                break;
            case TypeKind.Timestamp:
                var ts = ((TimestampArray)column).Values;
                var times = new DateTime?[rows.Count];
                for (int i = 0; i < times.Length; i++)
                    if (!column.IsNull(rows[i])) times[i] = new DateTime(DateTime.UnixEpoch.Ticks + ts[rows[i]] * 10, DateTimeKind.Utc);
                await group.WriteAsync(field, (ReadOnlyMemory<DateTime?>)times);
                break;
            case TypeKind.Date:
                int epoch = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
                var days = ((Date32Array)column).Values;
                var dates = new DateOnly?[rows.Count];
                for (int i = 0; i < dates.Length; i++)
                    if (!column.IsNull(rows[i])) dates[i] = DateOnly.FromDayNumber(epoch + days[rows[i]]);
                await group.WriteAsync(field, (ReadOnlyMemory<DateOnly?>)dates);
                break;
            case TypeKind.Bytes:
                var bytes = (BinaryArray)column;
                await group.WriteAsync(field, Gather(rows, r => column.IsNull(r) ? null! : bytes.GetBytes(r).ToArray()));
                break;
            case TypeKind.String:
                var strings = (StringArray)column;
                await group.WriteAsync(field, Gather(rows, r => strings.GetString(r)!));
                break;
            default:
                await group.WriteAsync(field, Gather(rows, r => column.IsNull(r) ? null! : FeatureJson.ToJson(column, r, type)));
                break;
        }
    }

    /// <summary>The selected rows of a primitive column, null where the column is null.</summary>
    private static T?[] Gather<T>(List<int> rows, IArrowArray column, T[] values) where T : struct
    {
        var result = new T?[rows.Count];
        for (int i = 0; i < result.Length; i++)
            if (!column.IsNull(rows[i])) result[i] = values[rows[i]];
        return result;
    }

    private static T[] Gather<T>(List<int> rows, Func<int, T> value)
    {
        var result = new T[rows.Count];
        for (int i = 0; i < result.Length; i++) result[i] = value(rows[i]);
        return result;
    }

    private async Task CloseAsync(string key)
    {
        var file = _open[key];
        _open.Remove(key);
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
