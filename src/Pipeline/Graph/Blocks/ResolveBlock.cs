using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>A source batch for one resolver: its read-order number, the messages, and the time late arrival is measured against.</summary>
internal readonly record struct SourceBatch(long Sequence, MessageBatch Messages, long NowMicros);

/// <summary>One resolver's result for a source batch.</summary>
internal readonly record struct Resolved(ResolverPlan Plan, long Sequence, ResolvedBatch Batch);

/// <summary>
/// One resolver's first stage, on <c>p</c> workers in read order: header filter, late drop, parse, projection and
/// derived features (<see cref="ResolverStep"/>), all vectorized over the batch.
/// </summary>
internal static class ResolveBlock
{
    public static TransformBlock<SourceBatch, Resolved> Create(ResolverPlan plan, int parallelism, int capacity, GraphMetrics metrics, CancellationToken cancellationToken)
    {
        var step = new ResolverStep(plan);
        var name = $"{plan.Name}/resolve";
        BlockMetrics? m = null;
        var block = new TransformBlock<SourceBatch, Resolved>(
            x => m!.Measure(x.Messages.Length, () => new Resolved(plan, x.Sequence, Faults.Guard(name, x.Messages, () => step.Process(x.Messages, x.NowMicros))),
                r => r.Batch.Features.Length),
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = parallelism, BoundedCapacity = capacity, EnsureOrdered = true, CancellationToken = cancellationToken });
        m = metrics.Add(name, parallelism, () => block.InputCount);
        return block;
    }
}
