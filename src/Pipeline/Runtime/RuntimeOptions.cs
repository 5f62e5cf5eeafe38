using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;

namespace Sluice.Pipeline.Runtime;

/// <summary>What a run serves, where it writes, and when it stops: the same for <c>sluice replay</c>, <c>sluice run</c> and the C# API.</summary>
public sealed record RuntimeOptions
{
    /// <summary>The online store's URI (<c>sqlite:PATH</c>, <c>redis://host:port</c>, ...).</summary>
    public string Online { get; init; } = "sqlite:.sluice/online.db";
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
    /// <summary>Hears (messages read, outcome counts per resolver) as the run goes, from any thread.</summary>
    public Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? Progress { get; init; }
    /// <summary>Hears what went wrong without stopping the run (offset commits a broker refused).</summary>
    public Action<string>? Warn { get; init; }
}

/// <summary>How a graph runs: the tuning of <see cref="GraphOptions"/> without its stores.</summary>
public sealed record GraphTuning
{
    /// <summary>See <see cref="GraphOptions.Parallelism"/>.</summary>
    public int Parallelism { get; init; }
    /// <summary>See <see cref="GraphOptions.Capacity"/>.</summary>
    public int Capacity { get; init; } = 4;
    /// <summary>See <see cref="GraphOptions.BatchSize"/> (a live source's own batch size wins).</summary>
    public int BatchSize { get; init; } = 4096;
    /// <summary>See <see cref="GraphOptions.Linger"/> (zero for live sources).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>See <see cref="GraphOptions.CommitRows"/>.</summary>
    public int CommitRows { get; init; } = 262_144;
    /// <summary>See <see cref="GraphOptions.CommitInterval"/>.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long offline segments stay open when the source sets no bound (a replay's files close at the end anyway).</summary>
    public TimeSpan OfflineFileAge { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>What a run did: messages read, time taken, each resolver's outcome counts, and each graph's block metrics.</summary>
public sealed record RunResult(long Messages, double Seconds, IReadOnlyDictionary<string, OutcomeCounts> Resolvers)
{
    /// <summary>The metrics of every block of every graph (a replay runs one graph).</summary>
    public IReadOnlyList<BlockMetrics> Blocks { get; init; } = [];
    /// <summary>The acknowledged next offset per (topic, partition) of every graph.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> Committed { get; init; } = new Dictionary<(string, int), long>();
}

/// <summary>A run that cannot start as asked (no resolver to serve, a store URI that is wrong): the message says what to change.</summary>
public sealed class RunSetupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A source failed while it was read: which source, of which kind, and the original exception as the inner one.</summary>
public sealed class SourceException(string source, string kind, Exception inner) : Exception($"source {source} ({kind}): {inner.Message}", inner)
{
    /// <summary>The source's name in the definitions.</summary>
    public string SourceName { get; } = source;
    /// <summary>Its kind.</summary>
    public string Kind { get; } = kind;
}
