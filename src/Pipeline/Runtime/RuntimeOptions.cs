using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;

namespace Sluice.Pipeline.Runtime;

/// <summary>What a run serves, where it writes, and when it stops: the same for <c>sluice replay</c>, <c>sluice run</c> and the C# API.</summary>
public sealed record RuntimeOptions
{
    /// <summary>The online store's URI (<c>sqlite:PATH</c>, <c>redis://host:port</c>, ...), when <see cref="OnlineStore"/> is not given.</summary>
    public string? Online { get; init; }
    /// <summary>An online store to use instead of opening <see cref="Online"/> (the caller disposes it).</summary>
    public IOnlineStore? OnlineStore { get; init; }
    /// <summary>The dedup store's URI; null: the one beside the online store (a file next to it, the same server).</summary>
    public string? Dedup { get; init; }
    /// <summary>A dedup store to use instead of opening one (the caller disposes it).</summary>
    public IDedupStore? DedupStore { get; init; }
    /// <summary>The offline store's folder; null writes no offline store.</summary>
    public string? OfflineDirectory { get; init; } = ".sluice/offline";
    /// <summary>Where sinks to file targets write (and, in a replay, every sink).</summary>
    public string SinkDirectory { get; init; } = ".sluice/sinks";
    /// <summary>The dead-letter file (for sources without a dead-letter topic, and in a replay); its folder also keeps source state (Kinesis checkpoints).</summary>
    public string DeadLetterPath { get; init; } = ".sluice/dead-letter.jsonl";
    /// <summary>The active environment: resolvers that list environments run only when it is one of them; null runs only resolvers that list none.</summary>
    public string? Environment { get; init; }
    /// <summary>Only these resolvers (null: all that run in the environment).</summary>
    public IReadOnlyCollection<string>? Resolvers { get; init; }
    /// <summary>
    /// A replay: this source stands in for the source of every selected resolver (recordings given on the command line),
    /// and sinks and dead letters go to files. Null: each resolver reads its own source.
    /// </summary>
    public IMessageSource? Replay { get; init; }
    /// <summary>Serve only resolvers whose source is live (<c>sluice run</c>).</summary>
    public bool LiveOnly { get; init; }
    /// <summary>
    /// When a resolver's sink targets the source of another selected resolver, hand its rows over in process (the seed's
    /// items -> embeddings chain without a broker). Not in a replay.
    /// </summary>
    public bool ChainInProcess { get; init; } = true;
    /// <summary>Live sources end once read to their end and idle this long, everything committed; null: until stopped.</summary>
    public TimeSpan? IdleExit { get; init; }
    /// <summary>Live sources stop after this many messages each (benchmarks); null: no limit.</summary>
    public long? MaxMessages { get; init; }
    /// <summary>How every graph runs (batch size, parallelism, group commit); stores and targets are set by the runtime.</summary>
    public GraphTuning Graph { get; init; } = new();
    /// <summary>
    /// Hears (messages read, outcome counts per resolver) as the run goes, from any thread: on every fragment read and
    /// every commit interval. A message counts once its first writer finished it (a written row once it is in the online
    /// store); the run's result counts what every writer made durable.
    /// </summary>
    public Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? Progress { get; init; }
    /// <summary>Hears what went wrong without stopping the run (offset commits a broker refused).</summary>
    public Action<string>? Warn { get; init; }
}
