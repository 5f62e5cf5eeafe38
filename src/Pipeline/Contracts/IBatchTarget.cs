using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// Where the graph hands resolved batches besides the stores: a resolver's sink, or the dead-letter target of its
/// source. Delivery rule: what the target was handed is durable when <see cref="WriteAsync"/> returns (a file fsynced,
/// a broker's acknowledgement received); the graph acknowledges the batch's source positions only after that. A
/// failure (after whatever retries the target makes) faults the graph: nothing it did not take is acknowledged.
/// A target whose <see cref="WritesInFlight"/> is above one has several writes outstanding at once: it has taken a
/// batch, in call order, when <see cref="WriteAsync"/> hands back its task (a producer's queue keeps that order), and
/// the task completes when the batch is durable.
/// </summary>
public interface IBatchTarget : IAsyncDisposable
{
    /// <summary>Writes what this target takes of <paramref name="batch"/> (its sink rows, or its failed messages); returns how many records it wrote.</summary>
    Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken);

    /// <summary>How many writes of <paramref name="plan"/>'s records may be outstanding at once (one: each is awaited before the next).</summary>
    int WritesInFlight(ResolverPlan plan) => 1;
}
