using System.Text;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Stores;

namespace Sluice.Sources.Kinesis;

/// <summary>
/// A sink to Kinesis streams: for a target source of kind kinesis, <c>json</c> puts one record per row (partition key =
/// the primary key), <c>ipc_stream</c> one record per batch (partition key = the resolver). Other targets go to <c>other</c>.
/// </summary>
public sealed class KinesisSink(CompiledDefinitions definitions, IBatchTarget other) : IBatchTarget
{
    private readonly Dictionary<string, KinesisClient> _clients = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        if (!definitions.Sources.TryGetValue(plan.Sink!.Target, out var target) || target.Kind.Value != "kinesis")
            return await other.WriteAsync(plan, batch, cancellationToken);
        var (columns, types) = SinkEncoding.Columns(plan, batch);
        if (columns.Length == 0) return 0;
        var records = new List<(byte[], string)>();
        if (plan.Sink.Format == "json")
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            for (int r = 0; r < columns.Length; r++)
            {
                buffer.ResetWrittenCount();
                SinkEncoding.JsonRow(columns, types, r, buffer);
                var key = SinkEncoding.Key(plan, batch, r);
                records.Add((buffer.WrittenSpan.ToArray(), key.Length == 0 ? plan.Name : Encoding.UTF8.GetString(key)));
            }
        }
        else records.Add((SinkEncoding.IpcStream(columns), plan.Name));
        await Client(target).PutRecordsAsync(target.Options["stream_name"].Value, records, cancellationToken);
        return records.Count;
    }

    private KinesisClient Client(SourceDef source)
    {
        if (!_clients.TryGetValue(source.Name, out var c)) _clients[source.Name] = c = KinesisClient.For(source);
        return c;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients.Values) c.Dispose();
        await other.DisposeAsync();
    }
}

/// <summary>
/// The dead-letter stream of a Kinesis source (<c>dead_letter_queue_topic</c> names a stream): Kinesis records carry no
/// headers, so each failed message becomes one record holding its dead-letter line (the kcat-style JSON that replay reads:
/// original key, payload and headers plus sluice-error, sluice-resolver, sluice-source), partition key = its original key.
/// </summary>
public sealed class KinesisDeadLetters(IBatchTarget other) : IBatchTarget
{
    private readonly Dictionary<string, KinesisClient> _clients = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        if (plan.Source.Kind.Value != "kinesis" || !plan.Source.Options.TryGetValue("dead_letter_queue_topic", out var stream) || stream.Value.Length == 0)
            return await other.WriteAsync(plan, batch, cancellationToken);
        var m = batch.Messages;
        var records = FileDeadLetters.FailedMessages(batch).Select(i => (
            Encoding.UTF8.GetBytes(MessageJsonl.Line(m, i, FileDeadLetters.DeadLetterHeaders(plan, batch, i))),
            m.Key.IsNull(i) || m.Key.GetBytes(i).Length == 0 ? m.Position(i) : Encoding.UTF8.GetString(m.Key.GetBytes(i)))).ToList();
        if (records.Count == 0) return 0;
        if (!_clients.TryGetValue(plan.Source.Name, out var client)) _clients[plan.Source.Name] = client = KinesisClient.For(plan.Source);
        await client.PutRecordsAsync(stream.Value, records, cancellationToken);
        return records.Count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients.Values) c.Dispose();
        await other.DisposeAsync();
    }
}
