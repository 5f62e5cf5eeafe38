namespace Sluice.Pipeline.Graph;

/// <summary>How a graph runs: batch size, parallelism, bounds and group commit.</summary>
public sealed record GraphTuning
{
    /// <summary>Workers of each resolve block; 0: one per core.</summary>
    public int Parallelism { get; init; }

    /// <summary>Batches each bounded block holds before the one before it waits.</summary>
    public int Capacity { get; init; } = 4;

    /// <summary>Messages per batch handed to the resolvers (the batcher's size; a live source's own batch size wins).</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>How long the batcher waits for a batch to fill before passing on what it has (live sources hand on what is due: zero).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The online writer writes a group once this many rows wait (group commit). Random keys dirty most of a SQLite
    /// table's pages in every commit, so fewer, larger groups write less: the 1M-user replay measured 173-180k msgs/s
    /// with 131,072-row groups and 188-189k with 262,144 (about 60 MB more staged).
    /// </summary>
    public int CommitRows { get; init; } = 262_144;

    /// <summary>... or once the oldest staged row has waited this long.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long offline segments stay open when the source sets no bound (a replay's files close at the end anyway).</summary>
    public TimeSpan OfflineFileAge { get; init; } = TimeSpan.FromMinutes(1);
}
