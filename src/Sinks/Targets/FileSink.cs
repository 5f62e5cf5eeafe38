using Apache.Arrow.Ipc;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Sinks;

/// <summary>
/// Sink rows in files: <c>&lt;dir&gt;/&lt;target&gt;.jsonl</c> (one JSON object per row keyed by FQN, as
/// <see cref="SinkRecords"/> encodes it) for format json, <c>&lt;dir&gt;/&lt;target&gt;.arrows</c> (one Arrow IPC stream
/// holding every batch, FQN columns) for ipc_stream.
/// </summary>
internal sealed class FileSink(string directory) : IBatchTarget
{
    private readonly Dictionary<string, AppendedLines> _json = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (FileStream Stream, ArrowStreamWriter Writer)> _arrows = new(StringComparer.Ordinal);

    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
    {
        var sink = plan.Sink!;
        if (sink.Format == "json")
        {
            if (!_json.TryGetValue(sink.Target, out var lines)) _json[sink.Target] = lines = new AppendedLines(Path.Combine(directory, sink.Target + ".jsonl"));
            var records = SinkRecords.Encode(plan, batch);
            await lines.SendAsync(records, cancellationToken);
            return records.Count;
        }
        var (columns, _) = SinkRecords.Columns(plan, batch);
        if (!_arrows.TryGetValue(sink.Target, out var arrows))
        {
            Directory.CreateDirectory(directory);
            var stream = File.Create(Path.Combine(directory, sink.Target + ".arrows"));
            DurableFiles.SyncFolder(directory);
            _arrows[sink.Target] = arrows = (stream, new ArrowStreamWriter(stream, columns.Schema));
        }
        await arrows.Writer.WriteRecordBatchAsync(columns, cancellationToken);
        // Acknowledged once this returns: on disk past a machine crash.
        arrows.Stream.Flush(flushToDisk: true);
        return 1;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lines in _json.Values) await lines.DisposeAsync();
        foreach (var (stream, writer) in _arrows.Values)
        {
            await writer.WriteEndAsync();
            writer.Dispose();
            await stream.DisposeAsync();
        }
    }
}
