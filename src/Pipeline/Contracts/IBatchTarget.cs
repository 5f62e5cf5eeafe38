using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// Where the graph hands resolved batches besides the stores: a resolver's sink, or the dead-letter target of its
/// source. Delivery rule: what the target was handed is durable when <see cref="WriteAsync"/> returns (a file fsynced,
/// a broker's acknowledgement received); the graph acknowledges the batch's source positions only after that. A
/// failure (after whatever retries the target makes) faults the graph: nothing it did not take is acknowledged.
/// </summary>
public interface IBatchTarget : IAsyncDisposable
{
    /// <summary>Writes what this target takes of <paramref name="batch"/> (its sink rows, or its failed messages); returns how many records it wrote.</summary>
    Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken);
}
