using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// An offline store (every resolved row, for training and backfills: Parquet files under
/// <c>&lt;root&gt;/&lt;namespace&gt;/date=YYYY-MM-DD/</c>, one row per resolved message). Contract:
/// <list type="bullet">
/// <item>Rows go into segments (files) that stay open for a while; a row is durable only once its segment is closed:
/// complete, fsynced and visible under its final name (a reader never sees a partial segment).</item>
/// <item>Delivery: <see cref="WriteAsync"/> names the segments a batch's rows went into; the graph acknowledges the
/// batch's source positions once every one of them was returned by <see cref="TakeDurable"/>.</item>
/// <item>One graph writes through one instance, one call at a time (it is not shared between graphs).</item>
/// </list>
/// </summary>
public interface IOfflineStore : IAsyncDisposable
{
    /// <summary>Appends the feature rows of a batch; returns the segments they went into.</summary>
    Task<IReadOnlyList<string>> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Closes the segments that are due (by age or size), or every open segment when <paramref name="all"/>.</summary>
    Task FlushAsync(bool all, CancellationToken cancellationToken = default);

    /// <summary>The segments closed (their rows durable) since the last call.</summary>
    IReadOnlyList<string> TakeDurable();
}
