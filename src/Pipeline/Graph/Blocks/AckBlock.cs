using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Observability;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// The end of the graph: counts a delivery's outcomes once every writer made it durable, and advances the committable
/// positions of the source (<see cref="AckJoiner"/>) as whole source batches become done, in read order. One worker
/// owns the joiner; everything reaches it as a posted event.
/// </summary>
internal sealed class AckBlock
{
    private readonly record struct Event(long Sequence, MessageBatch? Read, int Parts, Delivery? Done);

    private readonly AckJoiner _joiner = new();
    private readonly Dictionary<string, OutcomeCounts> _counts;
    private readonly Dictionary<string, OutcomeCounts> _visible;
    private readonly ActionBlock<Event> _block;

    public AckBlock(IEnumerable<ResolverPlan> plans, Action<string, int, long>? committed, GraphMetrics metrics, CancellationToken cancellationToken)
    {
        _counts = plans.ToDictionary(p => p.Name, _ => OutcomeCounts.Zero, StringComparer.Ordinal);
        _visible = new Dictionary<string, OutcomeCounts>(_counts, StringComparer.Ordinal);
        if (committed is not null) _joiner.Committed += committed;
        _block = new ActionBlock<Event>(e =>
        {
            if (e.Read is not null) _joiner.Register(e.Sequence, e.Read, e.Parts);
            else
            {
                var d = e.Done!;
                lock (_counts) _counts[d.Plan.Name] += d.Counts;
                SluiceMetrics.Outcomes(d.Plan.Name, d.Counts);
                _joiner.Ack(d.Sequence);
            }
        }, new ExecutionDataflowBlockOptions { CancellationToken = cancellationToken });
        metrics.Add(Name, 1, () => _block.InputCount);
    }

    public const string Name = "ack";

    /// <summary>The dataflow block (for completion and faults).</summary>
    public IDataflowBlock Block => _block;

    /// <summary>Source batch <paramref name="sequence"/> was read; <paramref name="parts"/> deliveries (one per resolver) will complete it.</summary>
    public void Read(long sequence, MessageBatch batch, int parts) => _block.Post(new Event(sequence, batch, parts, null));

    /// <summary>One writer made <paramref name="delivery"/> durable; the last one completes it. Safe from any thread.</summary>
    public void Done(Delivery delivery)
    {
        if (Interlocked.Exchange(ref delivery.Visible, 1) == 0)
            lock (_visible) _visible[delivery.Plan.Name] += delivery.Counts;
        if (Interlocked.Decrement(ref delivery.PendingTargets) == 0) _block.Post(new Event(delivery.Sequence, null, 0, delivery));
    }

    /// <summary>How many source batches, counted from the first, are fully acknowledged (safe from any thread).</summary>
    public long Acknowledged => _joiner.Acknowledged;

    /// <summary>Source batches read but not fully acknowledged (read once the block completed).</summary>
    public int InFlight => _joiner.InFlight;

    /// <summary>The committable next offset per (topic, partition) (read once the block completed).</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> Committable => _joiner.Committable;

    /// <summary>
    /// The outcome counts as they happen, for progress: a delivery counts once its first writer finished it (the online
    /// store's commit, usually within a second), not once every writer made it durable as <see cref="Counts"/> does.
    /// </summary>
    public IReadOnlyDictionary<string, OutcomeCounts> Visible()
    {
        lock (_visible) return new Dictionary<string, OutcomeCounts>(_visible, StringComparer.Ordinal);
    }

    /// <summary>The outcome counts of every resolver so far: deliveries every writer made durable.</summary>
    public IReadOnlyDictionary<string, OutcomeCounts> Counts()
    {
        lock (_counts) return new Dictionary<string, OutcomeCounts>(_counts, StringComparer.Ordinal);
    }
}
