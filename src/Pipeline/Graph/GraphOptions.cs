using Sluice.Pipeline.Contracts;

namespace Sluice.Pipeline.Graph;

/// <summary>What a graph writes through and how it runs. The graph opens nothing itself: its stores and targets are given.</summary>
internal sealed record GraphOptions
{
    /// <summary>The online store (shared with other graphs; the caller disposes it).</summary>
    public required IOnlineStore Online { get; init; }

    /// <summary>The offline store of this graph (one writer; the caller disposes it), or null to write none.</summary>
    public IOfflineStore? Offline { get; init; }

    /// <summary>The dedup store (shared; the caller disposes it).</summary>
    public required IDedupStore Dedup { get; init; }

    /// <summary>Where the resolvers' sinks write (the caller disposes it).</summary>
    public required IBatchTarget Sink { get; init; }

    /// <summary>Where failed messages go (the caller disposes it).</summary>
    public required IBatchTarget DeadLetters { get; init; }

    /// <summary>Batch size, parallelism, bounds and group commit.</summary>
    public GraphTuning Tuning { get; init; } = new();

    /// <summary>How often block queue depths are sampled for <see cref="GraphResult.Blocks"/>.</summary>
    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Called with (topic, partition, next offset) each time a partition's acknowledged prefix advances: what a live
    /// source may commit. Called from the ack block, one call at a time.
    /// </summary>
    public Action<string, int, long>? Committed { get; init; }

    /// <summary>
    /// The wall clock that late arrival is measured against (live sources); null measures it against stream time, the
    /// newest message timestamp read so far, so that replaying an old recording behaves as it did live.
    /// </summary>
    public TimeProvider? Clock { get; init; }
}
