using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// Shared by every resolver of the graph: claims each row's deduplication key with its source position (one dedup store
/// for all, keys namespaced per resolver), drops the duplicates, then runs the resolver's C# online resolvers.
/// </summary>
internal static class DedupBlock
{
    public const string Name = "dedup";

    public static TransformBlock<Resolved, Resolved> Create(IDedupStore store, int capacity, GraphMetrics metrics, CancellationToken feed, CancellationToken cancellationToken)
    {
        BlockMetrics? m = null;
        var block = new TransformBlock<Resolved, Resolved>(
            x => m!.MeasureAsync(x.Batch.Features.Length, async () => x with
            {
                Batch = await Faults.GuardAsync(Name, x.Batch.Messages, async () =>
                    await OnlineStep.ApplyAsync(x.Plan, await DeduplicateAsync(x.Plan, x.Batch, store, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)),
            }, r => r.Batch.Features.Length),
            new ExecutionDataflowBlockOptions { BoundedCapacity = capacity, CancellationToken = feed });
        m = metrics.Add(Name, 1, () => block.InputCount);
        return block;
    }

    /// <summary>Claims the keys of <paramref name="batch"/>'s rows; the rows whose claim another message holds become duplicates.</summary>
    internal static async Task<ResolvedBatch> DeduplicateAsync(ResolverPlan plan, ResolvedBatch batch, IDedupStore store, CancellationToken ct)
    {
        if (batch.DeduplicationKeys is not { } keys || plan.DeduplicationWindow is not { } window || batch.Features.Length == 0) return batch;
        var type = plan.DeduplicationKey!.Type;
        long windowMicros = (long)(window.TotalMilliseconds * 1000);
        // A null key claims nothing: such a message is never a duplicate.
        var rows = Enumerable.Range(0, batch.Features.Length).Where(r => !keys.IsNull(r)).ToArray();
        var claims = rows.Select(r =>
        {
            int m = batch.RowMessage[r];
            return new DedupClaim(plan.Name + "\u001f" + FeatureJson.ToJson(keys, r, type), batch.Messages.Identity(m), batch.Messages.Timestamp.Values[m], windowMicros);
        }).ToArray();
        var keep = await store.ClaimAsync(claims, ct);
        var drop = new bool[batch.Features.Length];
        for (int i = 0; i < rows.Length; i++) drop[rows[i]] = !keep[i];
        return batch.WithoutRows(drop, MessageOutcome.Duplicate);
    }
}
