namespace Sluice.Pipeline.Contracts;

/// <summary>How the graph treats a source's batches.</summary>
public sealed record SourceTraits
{
    /// <summary>
    /// A live source: late arrival is measured against the wall clock, and it hands on fragments when they are due (the
    /// graph does not hold them to fill a batch). A recording is not live: lateness is measured against stream time (the
    /// newest message timestamp read so far), so that replaying an old recording behaves as it did live.
    /// </summary>
    public bool Live { get; init; }

    /// <summary>Messages per batch the graph resolves at once.</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>
    /// How long rows may wait to become durable (offline segments close at least this often), so that positions keep
    /// advancing (a consumer's commits, a subscription's acknowledgement deadlines); null: the offline store's own age.
    /// </summary>
    public TimeSpan? DurableWithin { get; init; }
}
