using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Runtime;

namespace Sluice;

/// <summary>Where a <see cref="StreamPipeline"/> writes, and its stores (the embedded defaults unless given).</summary>
public sealed record PipelineOptions
{
    /// <summary>The online store's URI (<c>sqlite:PATH</c>, <c>redis://host:port</c>) when <see cref="Online"/> is null.</summary>
    public string OnlineUri { get; init; } = "sqlite:.sluice/online.db";
    /// <summary>An online store to use instead of opening <see cref="OnlineUri"/>. The caller disposes what it passes.</summary>
    public IOnlineStore? Online { get; init; }
    /// <summary>The dedup store's URI; null: beside the online store (or in memory when <see cref="Online"/> is given).</summary>
    public string? DedupUri { get; init; }
    /// <summary>A dedup store to use instead of opening one. The caller disposes what it passes.</summary>
    public IDedupStore? Dedup { get; init; }
    /// <summary>The Parquet offline store's folder; null writes no offline store.</summary>
    public string? OfflineDirectory { get; init; } = ".sluice/offline";
    /// <summary>Where sinks to file targets write (<c>&lt;target&gt;.jsonl|.arrows</c>).</summary>
    public string SinkDirectory { get; init; } = ".sluice/sinks";
    /// <summary>Where dead letters of sources without a dead-letter topic go (a replayable JSONL recording); its folder also keeps source state (Kinesis checkpoints).</summary>
    public string DeadLetterPath { get; init; } = ".sluice/dead-letter.jsonl";
    /// <summary>The active environment (resolvers listing others do not run).</summary>
    public string? Environment { get; init; }
    /// <summary>
    /// When a resolver's sink targets the source of another resolver of the pipeline, hand its rows over in process
    /// (the seed's items -> embeddings chain without a broker). Default true.
    /// </summary>
    public bool ChainInProcess { get; init; } = true;
    /// <summary>Live sources (Kafka, Kinesis, Pub/Sub) end once idle this long, everything committed; null: until the run is cancelled.</summary>
    public TimeSpan? IdleExit { get; init; }
    /// <summary>The kinds of sources, targets and stores (<see cref="Defaults.Connectors"/> unless given).</summary>
    public Connectors? Connectors { get; init; }
}

/// <summary>
/// Resolvers running together, as <c>sluice run</c> runs them: each reads its own source (recordings to their end, live
/// sources until the run is cancelled or idle <see cref="PipelineOptions.IdleExit"/>), a sink that feeds another
/// resolver of the pipeline is handed over in process, and everything is written to the stores.
/// </summary>
public sealed class StreamPipeline
{
    private readonly CompiledDefinitions _definitions;
    private readonly PipelineOptions _options;
    private readonly Connectors _connectors;

    private StreamPipeline(CompiledDefinitions definitions, PipelineOptions options, Connectors connectors)
    {
        _definitions = definitions;
        _options = options;
        _connectors = connectors;
    }

    /// <summary>A pipeline of C# resolvers (stream, row and online).</summary>
    /// <exception cref="DefinitionException">Every error found, each with its code, resolver, feature and C# call site.</exception>
    public static StreamPipeline Build(IEnumerable<IResolver> resolvers, PipelineOptions? options = null)
    {
        var connectors = options?.Connectors ?? Defaults.Connectors;
        return new(StreamResolver.Compile(connectors, [.. resolvers]), options ?? new PipelineOptions(), connectors);
    }

    /// <summary>A pipeline of compiled definitions.</summary>
    public static StreamPipeline Build(CompiledDefinitions definitions, PipelineOptions? options = null) =>
        new(definitions, options ?? new PipelineOptions(), options?.Connectors ?? Defaults.Connectors);

    /// <summary>A pipeline of the resolvers a definition file (<c>sluice.yaml</c>) declares.</summary>
    /// <exception cref="DefinitionException">Every error of the file, each with its code and file:line:col.</exception>
    public static StreamPipeline FromFile(string path, PipelineOptions? options = null)
    {
        var connectors = options?.Connectors ?? Defaults.Connectors;
        var compiled = DefinitionCompiler.CompileFile(path, connectors, out var errors) ?? throw new DefinitionException(errors);
        return new(compiled, options ?? new PipelineOptions(), connectors);
    }

    /// <summary>The compiled resolvers.</summary>
    public CompiledDefinitions Definitions => _definitions;

    /// <summary>
    /// Runs every resolver until its input ends (recordings, in-process chains) or <paramref name="cancellationToken"/>
    /// stops the live sources; returns what each resolver did.
    /// </summary>
    public Task<RunResult> RunAsync(CancellationToken cancellationToken = default) =>
        PipelineRuntime.RunAsync(_definitions, _connectors, new RuntimeOptions
        {
            Online = _options.OnlineUri,
            OnlineStore = _options.Online,
            Dedup = _options.DedupUri,
            DedupStore = _options.Dedup,
            OfflineDirectory = _options.OfflineDirectory,
            SinkDirectory = _options.SinkDirectory,
            DeadLetterPath = _options.DeadLetterPath,
            Environment = _options.Environment,
            ChainInProcess = _options.ChainInProcess,
            IdleExit = _options.IdleExit,
        }, cancellationToken);
}
