using Apache.Arrow;
using Sluice.Pipeline.Compilation;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// An online store (the latest feature values of each entity, what a model reads at serving time). Contract:
/// <list type="bullet">
/// <item>Newest wins: per feature, the value with the newest feature time (<c>__ts__</c>) is kept; an older message never
/// overwrites a newer value, whatever order they are written in, also when several processes write one store.</item>
/// <item>Expiry: a class's <c>max_staleness</c> hides a value that long after it was written.</item>
/// <item>Delivery: the graph collects resolved batches into groups and writes each group at once; the group is durable
/// (survives the machine crashing, or is confirmed by the server) when <see cref="WriteAsync"/> completes, and only then
/// are its source positions acknowledged. Writes must be safe to repeat: a restart re-writes an unacknowledged tail.</item>
/// <item>Several graphs may write through one store at once; their groups never mix.</item>
/// </list>
/// </summary>
public interface IOnlineStore : IAsyncDisposable
{
    /// <summary>
    /// Writes the feature rows (FQN columns and <c>__ts__</c>) of every batch of <paramref name="group"/>; durable when
    /// the task completes. Expiry counts from now. The group holds feature rows only, not the raw messages.
    /// </summary>
    Task WriteAsync(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default);

    /// <summary>The online values of one entity as a JSON object keyed by FQN (timestamps ISO-8601 UTC), or null when unknown or expired.</summary>
    Task<string?> GetAsync(FeatureClassPlan cls, string primaryKey, CancellationToken cancellationToken = default);

    /// <summary>How the graph groups writes for this store (by default: the graph's group size, one write at a time).</summary>
    OnlineWriteShape WriteShape => OnlineWriteShape.OneAtATime;
}

/// <summary>
/// How the graph groups online writes for a store: an embedded file writes best in a few large groups one at a time
/// (each commit rewrites the pages it dirties); a server writes best in many small groups in flight together, so that
/// it is busy from the first batch to the last.
/// </summary>
/// <param name="GroupRows">Rows a group gathers before it is written; null: the graph's <c>CommitRows</c>.</param>
/// <param name="WritesInFlight">Group writes that may be in flight at once; their rows are acknowledged as each completes.</param>
public sealed record OnlineWriteShape(int? GroupRows, int WritesInFlight)
{
    /// <summary>The graph's group size, one write at a time.</summary>
    public static OnlineWriteShape OneAtATime { get; } = new(null, 1);
}

/// <summary>What the online stores share about the feature rows they are handed.</summary>
internal static class OnlineRows
{
    /// <summary>
    /// The features a batch of <paramref name="plan"/>'s rows carries besides the primary key and the feature time
    /// (<c>__ts__</c>): every other FQN column of <paramref name="schema"/>, in schema order.
    /// </summary>
    public static FeaturePlan[] ValueFeatures(ResolverPlan plan, Schema schema) =>
        schema.FieldsList.Select(x => x.Name).Where(n => n != "__ts__" && n != plan.Class.Primary.Fqn)
            .Select(n => plan.Class.Features.First(p => p.Fqn == n)).ToArray();
}

/// <summary>
/// An online store that prepares each batch for writing when the graph stages it (on the staging thread, while the
/// previous group is being written) rather than inside the write: its group commit is the replay's serial bottleneck,
/// so work taken out of it is throughput.
/// </summary>
internal interface IStagingOnlineStore
{
    /// <summary>A batch's feature rows, prepared for <see cref="WriteStagedAsync"/>.</summary>
    object Stage(ResolverPlan plan, RecordBatch features);

    /// <summary>Writes staged batches as one group, as <see cref="IOnlineStore.WriteAsync"/> writes unstaged ones.</summary>
    Task WriteStagedAsync(IReadOnlyList<object> staged, CancellationToken cancellationToken = default);
}
