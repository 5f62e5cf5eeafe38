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

    /// <summary>Workers of each resolve block; 0: one per core.</summary>
    public int Parallelism { get; init; }

    /// <summary>Batches each bounded block holds before the one before it waits.</summary>
    public int Capacity { get; init; } = 4;

    /// <summary>Messages per batch handed to the resolvers (the batcher's size).</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>How long the batcher waits for a batch to fill before passing on what it has (zero: a live source hands on what is due).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The online writer writes a group once this many rows wait (group commit). Random keys dirty most of a SQLite
    /// table's pages in every commit, so fewer, larger groups write less: the 1M-user replay measured 173-180k msgs/s
    /// with 131,072-row groups and 188-189k with 262,144 (about 60 MB more staged).
    /// </summary>
    public int CommitRows { get; init; } = 262_144;

    /// <summary>... or once the oldest staged row has waited this long.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(1);

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
