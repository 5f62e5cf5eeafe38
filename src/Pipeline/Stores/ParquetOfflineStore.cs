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

    /// <summary>Rows after which a file is closed and a new one started.</summary>
    public long MaxRowsPerFile { get; init; } = 1_000_000;

    /// <summary>Age after which a file is closed and a new one started.</summary>
    public TimeSpan MaxFileAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Appends the feature rows of a batch, split by the UTC date of their feature time.</summary>
    public async Task WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
    {
        var f = batch.Features;
        if (f.Length == 0) return;
        var ts = (TimestampArray)f.Column("__ts__");
        foreach (var day in Enumerable.Range(0, f.Length).GroupBy(r => Math.DivRem(ts.Values[r], 86_400_000_000L, out long rem) - (rem < 0 ? 1 : 0)))
        {
            var rows = day.ToList();
            var date = DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)day.Key).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var dir = Path.Combine(root, plan.Class.Namespace, $"date={date}");
            var key = $"{dir}|{plan.Name}";
            var file = await OpenAsync(key, dir, plan, f, cancellationToken);
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
        var path = Path.Combine(dir, $"part-{plan.Name}-{DateTime.UtcNow:yyyyMMddHHmmss}-{Interlocked.Increment(ref _sequence):D5}.parquet");
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
                await group.WriteAsync(field, (ReadOnlyMemory<long?>)rows.Select(r => column.IsNull(r) ? null : (long?)((Int64Array)column).Values[r]).ToArray());
                break;
            case TypeKind.Float64:
                await group.WriteAsync(field, (ReadOnlyMemory<double?>)rows.Select(r => column.IsNull(r) ? null : (double?)((DoubleArray)column).Values[r]).ToArray());
                break;
            case TypeKind.Bool:
                await group.WriteAsync(field, (ReadOnlyMemory<bool?>)rows.Select(r => ((BooleanArray)column).GetValue(r)).ToArray());
                break;
            case TypeKind.Timestamp:
                var ts = (TimestampArray)column;
                await group.WriteAsync(field, (ReadOnlyMemory<DateTime?>)rows.Select(r => column.IsNull(r) ? null
                    : (DateTime?)new DateTime(DateTime.UnixEpoch.Ticks + ts.Values[r] * 10, DateTimeKind.Utc)).ToArray());
                break;
            case TypeKind.Date:
                await group.WriteAsync(field, (ReadOnlyMemory<DateOnly?>)rows.Select(r => column.IsNull(r) ? null
                    : (DateOnly?)DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + ((Date32Array)column).Values[r])).ToArray());
                break;
            case TypeKind.Bytes:
                await group.WriteAsync(field, rows.Select(r => column.IsNull(r) ? null! : ((BinaryArray)column).GetBytes(r).ToArray()).ToArray());
                break;
            case TypeKind.String:
                await group.WriteAsync(field, rows.Select(r => ((StringArray)column).GetString(r)!).ToArray());
                break;
            default:
                await group.WriteAsync(field, rows.Select(r => column.IsNull(r) ? null! : FeatureJson.ToJson(column, r, type)).ToArray());
                break;
        }
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
    }

    /// <summary>Closes every open file.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var key in _open.Keys.ToList()) await CloseAsync(key);
    }
}
