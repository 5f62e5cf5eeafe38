using System.Buffers;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using System.Runtime.CompilerServices;

namespace Sluice.Pipeline.Contracts;
/// <summary>
/// The sink encodings, in one place for every target (files, topics, streams, in-process chains): the sink's features
/// as FQN columns; <c>json</c> = one record per row, a JSON object keyed by FQN (timestamps ISO-8601 UTC), keyed by the
/// row's primary key; <c>ipc_stream</c> = one record per batch holding an Arrow IPC stream (schema + record batch),
/// without a key (it carries many entities). Every record carries header <c>sluice-resolver</c>.
/// </summary>
public static class SinkRecords
{
    /// <summary>The header naming the resolver that wrote a sink record.</summary>
    public const string ResolverHeader = "sluice-resolver";

    /// <summary>The records of <paramref name="plan"/>'s sink for the rows of <paramref name="batch"/> (none when it has no rows).</summary>
    public static IReadOnlyList<OutRecord> Encode(ResolverPlan plan, ResolvedBatch batch)
    {
        var (columns, types) = Columns(plan, batch);
        if (columns.Length == 0) return [];
        KeyValuePair<string, byte[]>[] headers = [new(ResolverHeader, Encoding.UTF8.GetBytes(plan.Name))];
        if (plan.Sink!.Format != "json") return [new OutRecord(null, IpcStream(columns), headers)];
        // Everything that does not depend on the row is resolved once a batch: the key column, the property names.
        var key = batch.Features.Column(batch.Features.Schema.GetFieldIndex(plan.Class.Primary.Fqn, StringComparer.Ordinal));
        var names = Enumerable.Range(0, types.Length).Select(c => JsonEncodedText.Encode(columns.Schema.GetFieldByIndex(c).Name, FeatureJson.WriterOptions.Encoder)).ToArray();
        var records = new OutRecord[columns.Length];
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions);
        for (int r = 0; r < columns.Length; r++)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            JsonRow(writer, columns, names, types, r);
            records[r] = new OutRecord(Key(key, plan.Class.Primary.Type, r), buffer.WrittenSpan.ToArray(), headers);
        }
        return records;
    }

    /// <summary>The sink's features of <paramref name="batch"/>, as a record batch with FQN columns in the sink's order.</summary>
    public static (RecordBatch Batch, DataType[] Types) Columns(ResolverPlan plan, ResolvedBatch batch)
    {
        var f = batch.Features;
        var features = plan.Sink!.Fqns
            .Select(w => plan.Class.Features.First(x => x.Fqn == $"{plan.Class.Namespace}.{w[(w.IndexOf('.', StringComparison.Ordinal) + 1)..]}"))
            .ToArray();
        var indexes = features.Select(x => f.Schema.GetFieldIndex(x.Fqn, StringComparer.Ordinal)).ToArray();
        var schema = new Schema(indexes.Select(f.Schema.GetFieldByIndex), null);
        return (new RecordBatch(schema, indexes.Select(f.Column), f.Length), features.Select(x => x.Type).ToArray());
    }

    /// <summary>Row <paramref name="row"/> as one JSON object keyed by FQN (timestamps ISO-8601 UTC), through <paramref name="w"/>.</summary>
    // Runs per message: optimized from its first call, rather than after tiering up (a short run spent its first seconds
    // in unoptimized code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void JsonRow(Utf8JsonWriter w, RecordBatch columns, JsonEncodedText[] names, DataType[] types, int row)
    {
        w.WriteStartObject();
        for (int c = 0; c < types.Length; c++)
        {
            w.WritePropertyName(names[c]);
            FeatureJson.Write(w, columns.Column(c), row, types[c]);
        }
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>The batch as one Arrow IPC stream: schema, the record batch, end of stream.</summary>
    private static byte[] IpcStream(RecordBatch columns)
    {
        using var ms = new MemoryStream();
        using (var writer = new ArrowStreamWriter(ms, columns.Schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(columns);
            writer.WriteEnd();
        }
        return ms.ToArray();
    }

    /// <summary>The entity key of row <paramref name="row"/> of the primary-key column: its value as UTF-8 text (bytes keys as they are).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] Key(IArrowArray column, DataType type, int row) => column switch
    {
        _ when column.IsNull(row) => [],
        StringArray s => s.GetBytes(row).ToArray(),
        BinaryArray b => b.GetBytes(row).ToArray(),
        Int64Array i => Utf8Text(i.GetValue(row)!.Value),
        _ => Encoding.UTF8.GetBytes(FeatureJson.ToJson(column, row, type)),
    };

    private static byte[] Utf8Text(long value)
    {
        Span<byte> text = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(value, text, out int length);
        return text[..length].ToArray();
    }
}
