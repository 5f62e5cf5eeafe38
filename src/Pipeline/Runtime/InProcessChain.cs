using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Runtime;

/// <summary>
/// A sink handed over in process: the rows the feeding resolvers' sinks write (encoded as the sink's format says, as
/// they would be on a topic) become the messages of the resolvers that read the target, without a broker. Bounded, so
/// a slow reader slows its feeders. It ends once every feeder is done. Positions are <c>target/0/offset</c>, offsets
/// counted per run; a chain is not durable across runs.
/// </summary>
internal sealed class InProcessChain(SourceDef target, int feeders) : IBatchTarget, IMessageSource
{
    private readonly Channel<MessageBatch> _channel = Channel.CreateBounded<MessageBatch>(8);
    private int _feeders = feeders;
    private long _offset;

    /// <summary>One feeding graph is done (succeeded or failed).</summary>
    public void FeederDone()
    {
        if (Interlocked.Decrement(ref _feeders) == 0) _channel.Writer.TryComplete();
    }

    // ---- the sink side ----

    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var records = SinkRecords.Encode(plan, batch);
        if (records.Count == 0) return 0;
        var ts = (Apache.Arrow.TimestampArray)batch.Features.Column("__ts__");
        long offset = Interlocked.Add(ref _offset, records.Count) - records.Count;
        var b = new MessageBatch.Builder();
        for (int r = 0; r < records.Count; r++)
            b.Append(target.Name, 0, offset + r, ts.Values[plan.Sink!.Format == "json" ? r : 0], records[r].Key, records[r].Value, records[r].Headers);
        await _channel.Writer.WriteAsync(b.Build(), cancellationToken);
        return records.Count;
    }

    // ---- the source side ----

    public SourceTraits Traits { get; } = new();

    public async IAsyncEnumerable<SourceEvent> ReadAsync([EnumeratorCancellation] CancellationToken stop)
    {
        await foreach (var batch in _channel.Reader.ReadAllAsync(stop)) yield return SourceEvent.Of(batch);
    }

    public void Acknowledged(string topic, int partition, long next) { }

    public IReadOnlyList<string> Warnings => [];

    public Exception? Fault => null;

    /// <summary>Owned by the run, not by the graphs that write or read it: nothing to release.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
