using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// A target the block graph hands resolved batches to (a sink, the dead-letter target). What it was handed is durable
/// when <see cref="WriteAsync"/> returns: the graph acknowledges the batch's source positions after that.
/// </summary>
public interface IBatchTarget : IAsyncDisposable
{
    /// <summary>Writes what this target takes of <paramref name="batch"/>; returns how many records it wrote.</summary>
    Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken);
}

/// <summary>
/// The sink encodings of DESIGN.md section 5, shared by every sink: the sink's features as FQN columns, a row as a JSON
/// object keyed by FQN, a batch as an Arrow IPC stream (schema + record batch), and a row's key (its primary key).
/// </summary>
public static class SinkEncoding
{
    /// <summary>The sink's features of <paramref name="batch"/>, as a record batch with FQN columns in the sink's order.</summary>
    public static (RecordBatch Batch, DataType[] Types) Columns(ResolverPlan plan, ResolvedBatch batch)
    {
        var f = batch.Features;
        var features = plan.Sink!.Fqns
            .Select(w => plan.Class.Features.First(x => x.Fqn == $"{plan.Class.Namespace}.{w[(w.IndexOf('.', StringComparison.Ordinal) + 1)..]}"))
            .ToArray();
        var indexes = features.Select(x => f.Schema.GetFieldIndex(x.Fqn)).ToArray();
        var schema = new Schema(indexes.Select(f.Schema.GetFieldByIndex), null);
        return (new RecordBatch(schema, indexes.Select(f.Column), f.Length), features.Select(x => x.Type).ToArray());
    }

    /// <summary>Row <paramref name="row"/> as one JSON object keyed by FQN (timestamps ISO-8601 UTC), written to <paramref name="buffer"/>.</summary>
    public static void JsonRow(RecordBatch columns, DataType[] types, int row, System.Buffers.IBufferWriter<byte> buffer)
    {
        using var w = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions);
        w.WriteStartObject();
        for (int c = 0; c < types.Length; c++)
        {
            w.WritePropertyName(columns.Schema.GetFieldByIndex(c).Name);
            FeatureJson.Write(w, columns.Column(c), row, types[c]);
        }
        w.WriteEndObject();
    }

    /// <summary>The batch as one Arrow IPC stream: schema, the record batch, end of stream.</summary>
    public static byte[] IpcStream(RecordBatch columns)
    {
        using var ms = new MemoryStream();
        using (var writer = new ArrowStreamWriter(ms, columns.Schema, leaveOpen: true))
        {
            writer.WriteRecordBatch(columns);
            writer.WriteEnd();
        }
        return ms.ToArray();
    }

    /// <summary>The entity key of feature row <paramref name="row"/>: its primary key as UTF-8 text (bytes keys as they are).</summary>
    public static byte[] Key(ResolverPlan plan, ResolvedBatch batch, int row)
    {
        var column = batch.Features.Column(plan.Class.Primary.Fqn);
        return column switch
        {
            _ when column.IsNull(row) => [],
            StringArray s => s.GetBytes(row).ToArray(),
            BinaryArray b => b.GetBytes(row).ToArray(),
            _ => Encoding.UTF8.GetBytes(FeatureJson.ToJson(column, row, plan.Class.Primary.Type)),
        };
    }
}

/// <summary>
/// The dead-letter target of a replay: failed messages appended to a JSONL recording (kcat format) with their original
/// key, payload and headers plus <c>sluice-error</c>, <c>sluice-resolver</c> and <c>sluice-source</c>, so that the file
/// replays. Each batch's lines go out in one append, so that several graphs may share the file.
/// </summary>
public sealed class FileDeadLetters(string path) : IBatchTarget
{
    private FileStream? _file;

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        int written = 0;
        foreach (var i in FailedMessages(batch))
        {
            text.Append(MessageJsonl.Line(batch.Messages, i, DeadLetterHeaders(plan, batch, i))).Append('\n');
            written++;
        }
        if (written == 0) return 0;
        if (_file is null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1, useAsync: false);
        }
        await _file.WriteAsync(new UTF8Encoding(false).GetBytes(text.ToString()), cancellationToken);
        await _file.FlushAsync(cancellationToken);
        return written;
    }

    /// <summary>The messages of <paramref name="batch"/> that go to the dead-letter target (parse_failed, failed).</summary>
    public static IEnumerable<int> FailedMessages(ResolvedBatch batch) =>
        Enumerable.Range(0, batch.Outcomes.Count).Where(i => batch.Outcomes[i] is MessageOutcome.ParseFailed or MessageOutcome.Failed);

    /// <summary>The headers a dead letter carries besides the original ones.</summary>
    public static KeyValuePair<string, string>[] DeadLetterHeaders(ResolverPlan plan, ResolvedBatch batch, int i) =>
    [
        new("sluice-error", batch.Reasons[i] ?? batch.Outcomes[i].ToString()),
        new("sluice-resolver", plan.Name),
        new("sluice-source", batch.Messages.Position(i)),
    ];

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_file is not null) await _file.DisposeAsync();
    }
}
