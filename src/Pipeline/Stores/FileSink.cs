using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// The embedded sink: <c>&lt;dir&gt;/&lt;target&gt;.jsonl</c> (one JSON object per row keyed by FQN) for format json,
/// <c>&lt;dir&gt;/&lt;target&gt;.arrows</c> (an Arrow IPC stream, one record batch per batch, FQN columns) for ipc_stream.
/// </summary>
public sealed class FileSink : IBatchTarget
{
    private readonly string _dir;
    private readonly Dictionary<string, StreamWriter> _json = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Stream Stream, ArrowStreamWriter Writer)> _arrows = new(StringComparer.Ordinal);

    /// <summary>Writes under <paramref name="directory"/>.</summary>
    public FileSink(string directory) => _dir = directory;

    /// <summary>Writes the sink's features of the batch's rows.</summary>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default)
    {
        var sink = plan.Sink!;
        var (columns, types) = SinkEncoding.Columns(plan, batch);
        Directory.CreateDirectory(_dir);
        if (sink.Format == "json")
        {
            if (!_json.TryGetValue(sink.Target, out var writer))
                _json[sink.Target] = writer = new StreamWriter(Path.Combine(_dir, sink.Target + ".jsonl"), append: true, new UTF8Encoding(false));
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            for (int r = 0; r < columns.Length; r++)
            {
                buffer.ResetWrittenCount();
                SinkEncoding.JsonRow(columns, types, r, buffer);
                await writer.WriteLineAsync(Encoding.UTF8.GetString(buffer.WrittenSpan).AsMemory(), cancellationToken);
            }
            await writer.FlushAsync(cancellationToken);
            return columns.Length;
        }
        if (!_arrows.TryGetValue(sink.Target, out var arrows))
        {
            var stream = File.Create(Path.Combine(_dir, sink.Target + ".arrows"));
            _arrows[sink.Target] = arrows = (stream, new ArrowStreamWriter(stream, columns.Schema));
        }
        await arrows.Writer.WriteRecordBatchAsync(columns, cancellationToken);
        await arrows.Stream.FlushAsync(cancellationToken);
        return 1;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var w in _json.Values) await w.DisposeAsync();
        foreach (var (stream, writer) in _arrows.Values)
        {
            await writer.WriteEndAsync();
            writer.Dispose();
            await stream.DisposeAsync();
        }
    }
}
