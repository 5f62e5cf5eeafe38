using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Graph;

/// <summary>
/// One resolver's resolved batch on its way to the writers. Its outcomes are counted, and its share of the source
/// batch acknowledged, once every writer it was handed to has made it durable (<see cref="PendingTargets"/> reaches 0).
/// </summary>
internal sealed class Delivery(ResolverPlan plan, long sequence, OutcomeCounts counts)
{
    /// <summary>The resolver.</summary>
    public ResolverPlan Plan { get; } = plan;
    /// <summary>The source batch it came from, numbered in read order.</summary>
    public long Sequence { get; } = sequence;
    /// <summary>Its outcome counts.</summary>
    public OutcomeCounts Counts { get; } = counts;
    /// <summary>Writers that have not yet made it durable (decremented from any writer's thread).</summary>
    public int PendingTargets;
    /// <summary>1 once a first writer finished it (its rows are visible there, e.g. to <c>sluice get</c>): the progress line counts it then.</summary>
    public int Visible;
    /// <summary>Offline segments its rows went into that are not yet closed (the offline writer's own count).</summary>
    public int PendingOfflineSegments;
}
