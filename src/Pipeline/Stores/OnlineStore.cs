using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// An online store (DESIGN.md section 5): the latest value of each feature by feature time (an older message never
/// overwrites a newer value), expiring <c>max_staleness</c> after it was written. The graph stages resolved batches and
/// commits them as groups (one SQLite transaction, one Redis pipeline); a group is durable when its commit completes.
/// </summary>
public interface IOnlineStore : IAsyncDisposable
{
    /// <summary>Stages the feature rows of a resolved batch for the next <see cref="CommitAsync"/>; may run while a commit runs.</summary>
    void Stage(ResolverPlan plan, ResolvedBatch batch);

    /// <summary>Feature rows staged and not yet taken by a commit.</summary>
    int StagedRows { get; }

    /// <summary>Writes every staged row; durable when the task completes. Commits never overlap.</summary>
    Task CommitAsync(CancellationToken cancellationToken = default);

    /// <summary>The online values of one entity as a JSON object keyed by FQN (timestamps ISO-8601 UTC), or null when unknown or expired.</summary>
    Task<string?> GetAsync(FeatureClassPlan cls, string primaryKey, CancellationToken cancellationToken = default);
}
