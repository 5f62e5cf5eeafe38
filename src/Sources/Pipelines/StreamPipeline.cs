using System.Text;
using System.Threading.Channels;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Stores;
using Sluice.Sources.Kafka;
using Sluice.Sources.Kinesis;
using Sluice.Sources.PubSub;
using Sluice.Sources.Recording;

namespace Sluice;

/// <summary>Where a <see cref="StreamPipeline"/> writes, and its stores (the embedded defaults unless given).</summary>
public sealed record PipelineOptions
{
    /// <summary>The online store; null opens SQLite at <see cref="OnlinePath"/>. The caller disposes what it passes.</summary>
    public IOnlineStore? Online { get; init; }
    /// <summary>The SQLite online store's file when <see cref="Online"/> is null.</summary>
    public string OnlinePath { get; init; } = ".sluice/online.db";
    /// <summary>The Parquet offline store's folder; null writes no offline store.</summary>
    public string? OfflineDirectory { get; init; } = ".sluice/offline";
    /// <summary>Where sinks to sources outside the pipeline write in file form (<c>&lt;target&gt;.jsonl|.arrows</c>).</summary>
    public string SinkDirectory { get; init; } = ".sluice/sinks";
    /// <summary>Where dead letters go (a replayable JSONL recording).</summary>
    public string DeadLetterPath { get; init; } = ".sluice/dead-letter.jsonl";
    /// <summary>The dedup store; null keeps claims in memory. The caller disposes what it passes.</summary>
    public IDedupStore? Dedup { get; init; }
    /// <summary>The active environment (resolvers listing others do not run).</summary>
    public string? Environment { get; init; }
    /// <summary>
    /// When a resolver's sink targets the source of another resolver of the pipeline, hand its rows over in process
    /// (the seed's items -> embeddings chain without a broker). Default true.
    /// </summary>
    public bool ChainInProcess { get; init; } = true;
    /// <summary>Live sources (Kafka, Kinesis, Pub/Sub) end once idle this long, everything committed; null: until the run is cancelled.</summary>
    public TimeSpan? IdleExit { get; init; }
    /// <summary>The Kinesis checkpoint file.</summary>
    public string KinesisCheckpointPath { get; init; } = ".sluice/kinesis-checkpoints.db";
}

/// <summary>
/// Resolvers running together: recordings are replayed, a sink that feeds another resolver of the pipeline is handed
/// over in process, and live sources (Kafka, Kinesis, Pub/Sub) are consumed until <see cref="RunAsync"/>'s token is cancelled or
/// they were idle <see cref="PipelineOptions.IdleExit"/>.
/// </summary>
public sealed class StreamPipeline
{
    private readonly CompiledDefinitions _definitions;
    private readonly PipelineOptions _options;

    private StreamPipeline(CompiledDefinitions definitions, PipelineOptions options)
    {
        _definitions = definitions;
        _options = options;
    }

    /// <summary>A pipeline of C# resolvers (stream, row and online).</summary>
    public static StreamPipeline Build(IEnumerable<IResolver> resolvers, PipelineOptions? options = null) =>
        new(StreamResolver.Compile([.. resolvers]), options ?? new PipelineOptions());

    /// <summary>A pipeline of compiled definitions (e.g. a YAML file).</summary>
    public static StreamPipeline Build(CompiledDefinitions definitions, PipelineOptions? options = null) => new(definitions, options ?? new PipelineOptions());

    /// <summary>
    /// Runs every resolver until its input ends (recordings, in-process chains) or <paramref name="cancellationToken"/>
    /// stops the live sources; returns each resolver's outcome counts.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, OutcomeCounts>> RunAsync(CancellationToken cancellationToken = default)
    {
        var plans = _definitions.Resolvers.Where(r => r.RunsIn(_options.Environment)).ToList();
        var fed = _options.ChainInProcess
            ? plans.Where(p => p.Sink is { } s && plans.Any(q => q.Source.Name == s.Target)).Select(p => p.Sink!.Target).ToHashSet(StringComparer.Ordinal)
            : [];
        var chains = fed.ToDictionary(s => s, s => new Chain(plans.Count(p => p.Sink?.Target == s)), StringComparer.Ordinal);

        await using var ownOnline = _options.Online is null ? await SqliteOnlineStore.OpenAsync(_options.OnlinePath, cancellationToken: cancellationToken) : null;
        await using var ownDedup = _options.Dedup is null ? new InMemoryDedupStore() : null;
        var online = _options.Online ?? ownOnline!;
        IDedupStore dedup = _options.Dedup ?? ownDedup!;

        // A failing resolver stops the others: an upstream one blocked on a full chain would otherwise wait forever.
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var groups = plans.GroupBy(p => p.Source.Name, StringComparer.Ordinal).ToList();
        var runs = groups.Select(async g =>
        {
            try { return await RunGroupAsync(g.ToList(), chains, online, dedup, stopAll.Token); }
            catch
            {
                await stopAll.CancelAsync();
                throw;
            }
        }).ToList();
        var results = await Task.WhenAll(runs);
        return results.SelectMany(r => r).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
    }

    private async Task<IReadOnlyDictionary<string, OutcomeCounts>> RunGroupAsync(List<ResolverPlan> g, Dictionary<string, Chain> chains,
        IOnlineStore online, IDedupStore dedup, CancellationToken cancellationToken)
    {
        var names = g.Select(p => p.Name).ToList();
        var feeds = g.Where(p => p.Sink is { } s && chains.ContainsKey(s.Target)).Select(p => chains[p.Sink!.Target]).Distinct().ToList();
        try
        {
            var source = g.First().Source;
            if (!chains.TryGetValue(source.Name, out var chain) && source.Kind.Value is "kafka" or "kinesis" or "pubsub")
                return await RunLiveAsync(source.Kind.Value, names, online, dedup, chains, cancellationToken);
            var input = chain is not null ? chain.ReadAllAsync(cancellationToken)
                : source.Kind.Value == "recording" ? RecordingFile.ReadAsync(source.Options["path"].Value, 4096, cancellationToken)
                : throw new NotSupportedException($"source {source.Name}: {source.Kind.Value} sources are not served by StreamPipeline yet");
            await using var sink = new ChainingSink(chains, new FileSink(_options.SinkDirectory));
            await using var deadLetters = new FileDeadLetters(_options.DeadLetterPath);
            var result = await StreamGraph.RunAsync(_definitions, input, Graph(names, online, dedup, sink, deadLetters), cancellationToken: cancellationToken);
            return result.Resolvers;
        }
        finally
        {
            foreach (var c in feeds) c.Done(); // downstream resolvers see the end of their input once every feeder is done
        }
    }

    private GraphOptions Graph(IReadOnlyCollection<string> resolvers, IOnlineStore online, IDedupStore dedup, IBatchTarget sink, IBatchTarget deadLetters) =>
        new(_options.OnlinePath, _options.SinkDirectory, _options.DeadLetterPath, _options.OfflineDirectory, _options.Environment, resolvers)
        {
            Online = online,
            Dedup = dedup,
            Sink = sink,
            DeadLetters = deadLetters,
        };

    private async Task<IReadOnlyDictionary<string, OutcomeCounts>> RunLiveAsync(string kind, List<string> resolvers, IOnlineStore online, IDedupStore dedup,
        Dictionary<string, Chain> chains, CancellationToken stop)
    {
        if (resolvers.Any(r => _definitions.Resolvers.First(p => p.Name == r).Sink is { } s && chains.ContainsKey(s.Target)))
            throw new NotSupportedException($"a {kind} resolver's sink feeds the pipeline in process only from recordings for now; set ChainInProcess = false to go through the stream");
        // The runners bring their own sinks and dead-letter targets (topics and streams, else files).
        var options = new GraphOptions(_options.OnlinePath, _options.SinkDirectory, _options.DeadLetterPath, _options.OfflineDirectory, _options.Environment, resolvers)
        {
            Online = online,
            Dedup = dedup,
            OfflineFileAge = TimeSpan.FromSeconds(10), // offsets advance when offline files close
        };
        return kind switch
        {
            "kafka" => await KafkaRunner.RunAsync(_definitions, options, new KafkaSourceOptions { IdleExit = _options.IdleExit }, stop: stop),
            "kinesis" => await KinesisRunner.RunAsync(_definitions, options, new KinesisSourceOptions { IdleExit = _options.IdleExit, CheckpointPath = _options.KinesisCheckpointPath }, stop: stop),
            _ => await PubSubRunner.RunAsync(_definitions, options, new PubSubSourceOptions { IdleExit = _options.IdleExit }, stop: stop),
        };
    }

    /// <summary>An in-process stream: rows a sink wrote, as messages for the resolvers that read its target.</summary>
    private sealed class Chain(int feeders)
    {
        private readonly Channel<MessageBatch> _channel = Channel.CreateBounded<MessageBatch>(8);
        private int _feeders = feeders;
        private long _offset;

        public long NextOffsets(int count) => Interlocked.Add(ref _offset, count) - count;

        public ValueTask WriteAsync(MessageBatch batch, CancellationToken ct) => _channel.Writer.WriteAsync(batch, ct);

        public void Done()
        {
            if (Interlocked.Decrement(ref _feeders) == 0) _channel.Writer.TryComplete();
        }

        public IAsyncEnumerable<MessageBatch> ReadAllAsync(CancellationToken ct) => _channel.Reader.ReadAllAsync(ct);
    }

    /// <summary>Hands sink rows to an in-process chain when the target is one; elsewhere to the file sink.</summary>
    private sealed class ChainingSink(Dictionary<string, Chain> chains, IBatchTarget other) : IBatchTarget
    {
        public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
        {
            if (!chains.TryGetValue(plan.Sink!.Target, out var chain)) return await other.WriteAsync(plan, batch, cancellationToken);
            var (columns, types) = SinkEncoding.Columns(plan, batch);
            if (columns.Length == 0) return 0;
            var ts = (Apache.Arrow.TimestampArray)batch.Features.Column("__ts__");
            var b = new MessageBatch.Builder();
            if (plan.Sink.Format == "json")
            {
                long offset = chain.NextOffsets(columns.Length);
                var buffer = new System.Buffers.ArrayBufferWriter<byte>();
                for (int r = 0; r < columns.Length; r++)
                {
                    buffer.ResetWrittenCount();
                    SinkEncoding.JsonRow(columns, types, r, buffer);
                    b.Append(plan.Sink.Target, 0, offset + r, ts.Values[r], SinkEncoding.Key(plan, batch, r), buffer.WrittenSpan.ToArray(),
                        [KeyValuePair.Create("sluice-resolver", Encoding.UTF8.GetBytes(plan.Name))]);
                }
            }
            else
                b.Append(plan.Sink.Target, 0, chain.NextOffsets(1), ts.Values[0], null, SinkEncoding.IpcStream(columns),
                    [KeyValuePair.Create("sluice-resolver", Encoding.UTF8.GetBytes(plan.Name))]);
            await chain.WriteAsync(b.Build(), cancellationToken);
            return columns.Length;
        }

        public ValueTask DisposeAsync() => other.DisposeAsync();
    }
}
