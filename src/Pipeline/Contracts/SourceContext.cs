namespace Sluice.Pipeline.Contracts;

/// <summary>What <see cref="ISourceKind.RecordAsync"/> reads.</summary>
public sealed record RecordOptions
{
    /// <summary>Start at the oldest message the source holds (else new messages only).</summary>
    public bool FromBeginning { get; init; }
    /// <summary>Stop after this many messages; null: no limit.</summary>
    public long? MaxMessages { get; init; }
    /// <summary>Stop once nothing arrived for this long; null: the kind's own rule (until stopped, or until caught up).</summary>
    public TimeSpan? IdleExit { get; init; }
}

/// <summary>What a reader is opened with, the same for every kind.</summary>
public sealed record SourceContext
{
    /// <summary>End the read once every partition (shard, subscription) was read to its end and nothing new arrived for this long; null: until stopped.</summary>
    public TimeSpan? IdleExit { get; init; }
    /// <summary>Stop after this many messages (benchmarks read a topic of known size); null: no limit.</summary>
    public long? MaxMessages { get; init; }
    /// <summary>The folder for the source's own durable state (Kinesis checkpoints).</summary>
    public string StateDirectory { get; init; } = ".sluice";
}
