using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// Hands each resolved batch, as one delivery, to every writer that has work for it: online (rows, unless the resolver
/// skips it), offline (rows, unless skipped or there is no offline store), sink (rows, when the resolver has a sink),
/// dead-letter (failed messages). <c>SendAsync</c> waits for room: a slow writer slows the graph, nothing is dropped.
/// </summary>
internal static class FanOutBlock
{
    public const string Name = "fan-out";

    public static ActionBlock<Resolved> Create(OnlineWriter online, OfflineWriter? offline, ITargetBlock<WriterInput> sink, ITargetBlock<WriterInput> deadLetters,
        AckBlock acks, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded, CancellationToken feed)
    {
        ActionBlock<Resolved>? block = null;
        var m = metrics.Add(Name, 1, () => block?.InputCount ?? 0);
        return block = new ActionBlock<Resolved>(x => m.MeasureAsync(x.Batch.Features.Length, async () =>
        {
            var plan = x.Plan;
            var b = x.Batch;
            bool rows = b.Features.Length > 0;
            var targets = new List<ITargetBlock<WriterInput>>(3);
            if (rows && !plan.SkipOffline && offline is not null) targets.Add(offline.Block);
            if (rows && plan.Sink is not null) targets.Add(sink);
            if (b.Outcomes.Any(o => o is MessageOutcome.ParseFailed or MessageOutcome.Failed)) targets.Add(deadLetters);
            bool toOnline = rows && !plan.SkipOnline;
            // The + 1 is released below, once every writer was handed the delivery: none can finish it before that.
            var d = new Delivery(plan, x.Sequence, b.Counts()) { PendingTargets = targets.Count + (toOnline ? 1 : 0) + 1 };
            var input = new WriterInput(d, b);
            if (toOnline && !await online.Block.SendAsync(input, feed)) throw new InvalidOperationException("the online writer stopped taking batches");
            foreach (var t in targets)
                if (!await t.SendAsync(input, feed)) throw new InvalidOperationException("a writer stopped taking batches");
            acks.Done(d);
            return (long)b.Features.Length;
        }, n => n), bounded);
    }
}
