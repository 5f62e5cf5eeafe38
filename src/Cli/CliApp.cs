using System.CommandLine;
using System.Text.Json;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Stores;
using Sluice.Sources.Kafka;
using Sluice.Sources.Kinesis;
using Sluice.Sources.PubSub;
using Sluice.Sources.Recording;

namespace Sluice.Cli;

/// <summary>
/// The <c>sluice</c> command line (DESIGN.md section 7). Exit codes: 0 done; 1 <c>validate</c> found errors;
/// 2 wrong arguments or unreadable input, with a clear message and no stack trace.
/// </summary>
internal static class CliApp
{
    public const int Ok = 0, Invalid = 1, Usage = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var defs = new Argument<string>("defs") { Description = "the definition file (sluice.yaml)" };
        var validate = new Command("validate", "compile all resolvers; print every error; exit 1 if any") { defs };
        validate.SetAction(parse => Validate(parse.GetValue(defs)!, stdout, stderr));

        var replayDefs = new Argument<string>("defs") { Description = "the definition file (sluice.yaml)" };
        var recordings = new Argument<string[]>("recording") { Description = "recordings (.jsonl or .arrows)", Arity = ArgumentArity.OneOrMore };
        var resolver = new Option<string[]>("--resolver") { Description = "only these resolvers (repeatable)" };
        var env = new Option<string?>("--env") { Description = "the active environment" };
        var online = new Option<string>("--online") { Description = "online store URI", DefaultValueFactory = _ => "sqlite:.sluice/online.db" };
        var offline = new Option<string>("--offline") { Description = "offline store directory (Parquet)", DefaultValueFactory = _ => ".sluice/offline" };
        var sinkDir = new Option<string>("--sink-dir") { Description = "where sinks write", DefaultValueFactory = _ => ".sluice/sinks" };
        var deadLetter = new Option<string>("--dead-letter") { Description = "dead-letter file", DefaultValueFactory = _ => ".sluice/dead-letter.jsonl" };
        var json = new Option<bool>("--json") { Description = "print the result as JSON" };
        var dedupOption = new Option<string?>("--dedup") { Description = DedupHelp };
        var replay = new Command("replay", "replay recordings into the stores; print the outcome table")
            { replayDefs, recordings, resolver, env, online, offline, sinkDir, deadLetter, dedupOption, json };
        replay.SetAction((parse, ct) => Replay(parse.GetValue(replayDefs)!, parse.GetValue(recordings)!, parse.GetValue(resolver), parse.GetValue(env),
            parse.GetValue(online)!, parse.GetValue(dedupOption), parse.GetValue(offline)!, parse.GetValue(sinkDir)!, parse.GetValue(deadLetter)!, parse.GetValue(json), stdout, stderr, ct));

        var getDefs = new Argument<string>("defs") { Description = "the definition file (sluice.yaml)" };
        var cls = new Argument<string>("class") { Description = "feature class, e.g. User" };
        var key = new Argument<string>("primary-key") { Description = "the entity's primary key" };
        var getOnline = new Option<string>("--online") { Description = "online store URI", DefaultValueFactory = _ => "sqlite:.sluice/online.db" };
        var get = new Command("get", "print the online values of one entity as JSON") { getDefs, getOnline, cls, key };
        get.SetAction((parse, ct) => Get(parse.GetValue(getDefs)!, parse.GetValue(getOnline)!, parse.GetValue(cls)!, parse.GetValue(key)!, stdout, stderr, ct));

        var profileDefs = new Argument<string>("defs") { Description = "the definition file (sluice.yaml)" };
        var profileRecording = new Argument<string>("recording") { Description = "a recording (.jsonl or .arrows)" };
        var repeat = new Option<int>("--repeat") { Description = "feed the recording this many times", DefaultValueFactory = _ => 1 };
        var profileJson = new Option<string?>("--json") { Description = "also write the figures as JSON to this file" };
        var profile = new Command("profile", "replay into temporary stores and print per-block throughput, busy %, queue depth")
            { profileDefs, profileRecording, repeat, profileJson };
        profile.SetAction((parse, ct) => Profile(parse.GetValue(profileDefs)!, parse.GetValue(profileRecording)!, parse.GetValue(repeat), parse.GetValue(profileJson), stdout, stderr, ct));

        var runDefs = new Argument<string>("defs") { Description = "the definition file (sluice.yaml)" };
        var runResolver = new Option<string[]>("--resolver") { Description = "only these resolvers (repeatable)" };
        var runEnv = new Option<string?>("--env") { Description = "the active environment" };
        var runOnline = new Option<string>("--online") { Description = "online store URI", DefaultValueFactory = _ => "sqlite:.sluice/online.db" };
        var runOffline = new Option<string>("--offline") { Description = "offline store directory (Parquet)", DefaultValueFactory = _ => ".sluice/offline" };
        var runSinkDir = new Option<string>("--sink-dir") { Description = "where sinks to non-Kafka targets write", DefaultValueFactory = _ => ".sluice/sinks" };
        var runDeadLetter = new Option<string>("--dead-letter") { Description = "dead-letter file for sources without dead_letter_queue_topic", DefaultValueFactory = _ => ".sluice/dead-letter.jsonl" };
        var idleExit = new Option<double?>("--idle-exit") { Description = "exit after the sources were idle this many seconds, having committed everything" };
        var runJson = new Option<bool>("--json") { Description = "print the result as JSON (as replay --json)" };
        var runDedup = new Option<string?>("--dedup") { Description = DedupHelp };
        var run = new Command("run", "consume the Kafka sources of the resolvers until Ctrl-C (or --idle-exit)")
            { runDefs, runResolver, runEnv, runOnline, runOffline, runSinkDir, runDeadLetter, runDedup, idleExit, runJson };
        run.SetAction((parse, ct) => RunLive(parse.GetValue(runDefs)!, parse.GetValue(runResolver), parse.GetValue(runEnv), parse.GetValue(runOnline)!,
            parse.GetValue(runDedup), parse.GetValue(runOffline)!, parse.GetValue(runSinkDir)!, parse.GetValue(runDeadLetter)!, parse.GetValue(idleExit), parse.GetValue(runJson), stdout, stderr, ct));

        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka brokers (with --topic)" };
        var topic = new Option<string?>("--topic") { Description = "the Kafka topic to record" };
        var kinesisStream = new Option<string?>("--kinesis-stream") { Description = "record a Kinesis stream instead of a Kafka topic" };
        var endpointUrl = new Option<string?>("--endpoint-url") { Description = "the Kinesis endpoint (default: the region's AWS endpoint)" };
        var region = new Option<string>("--region") { Description = "the AWS region of --kinesis-stream", DefaultValueFactory = _ => "us-east-1" };
        var pubsubProject = new Option<string?>("--pubsub-project") { Description = "the Google Cloud project of --pubsub-subscription" };
        var pubsubSubscription = new Option<string?>("--pubsub-subscription") { Description = "record a Pub/Sub subscription (its messages are acknowledged once written: give the recorder its own)" };
        var outPath = new Option<string>("--out") { Description = "the recording to write (.arrows or .jsonl)", Required = true };
        var maxMessages = new Option<long?>("--max-messages") { Description = "stop after this many messages" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "start at the earliest offset (default: new messages only)" };
        var recordIdle = new Option<double?>("--idle-exit") { Description = "stop once no message arrived for this many seconds" };
        var record = new Command("record", "copy a Kafka topic (or a Kinesis stream) into a recording that replay reads back")
            { bootstrap, topic, kinesisStream, endpointUrl, region, pubsubProject, pubsubSubscription, outPath, maxMessages, fromBeginning, recordIdle };
        record.SetAction((parse, ct) => parse.GetValue(pubsubSubscription) is { } sub
            ? RecordPubSub(parse.GetValue(pubsubProject), sub, parse.GetValue(outPath)!, parse.GetValue(maxMessages), parse.GetValue(recordIdle), stdout, stderr, ct)
            : parse.GetValue(kinesisStream) is { } stream
            ? RecordKinesis(stream, parse.GetValue(endpointUrl), parse.GetValue(region)!, parse.GetValue(outPath)!, parse.GetValue(maxMessages), parse.GetValue(fromBeginning), stdout, stderr, ct)
            : parse.GetValue(bootstrap) is { } servers && parse.GetValue(topic) is { } t
                ? Record(servers, t, parse.GetValue(outPath)!, parse.GetValue(maxMessages), parse.GetValue(fromBeginning), parse.GetValue(recordIdle), stdout, stderr, ct)
                : Task.FromResult(MissingRecordSource(stderr)));

        var root = new RootCommand("Sluice: stream resolvers for .NET") { validate, replay, run, record, profile, get };
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var e in result.Errors) stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine("run 'sluice --help' for usage");
            return Usage;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromMinutes(1) });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Usage;
        }
        catch (GraphFaultException e)
        {
            // A store or sink that failed for good (after its retries): nothing it did not take was acknowledged.
            stderr.WriteLine($"error: {e.Message}");
            return Usage;
        }
    }

    private static int Validate(string path, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(path))
        {
            stderr.WriteLine($"error: cannot read definition file '{path}': no such file");
            return Usage;
        }
        var compiled = DefinitionCompiler.CompileFile(path, out var errors);
        if (compiled is null)
        {
            foreach (var e in errors) stdout.WriteLine(e);
            stdout.WriteLine($"{errors.Count} error{(errors.Count == 1 ? "" : "s")} in {path}");
            return Invalid;
        }
        foreach (var r in compiled.Resolvers)
            stdout.WriteLine($"ok  {r.Name}: {r.Source.Name} ({r.Source.Kind.Value}) -> {r.MessageType} -> {string.Join(", ", r.Outputs.Select(o => o.Feature.Fqn))}");
        stdout.WriteLine($"{compiled.Resolvers.Count} resolver{(compiled.Resolvers.Count == 1 ? "" : "s")} valid in {path}");
        return Ok;
    }

    /// <summary>The compiled definitions for replay/get, or null after printing why (the caller exits 2: unusable input).</summary>
    private static CompiledDefinitions? Load(string path, TextWriter stderr)
    {
        if (!File.Exists(path))
        {
            stderr.WriteLine($"error: cannot read definition file '{path}': no such file");
            return null;
        }
        var compiled = DefinitionCompiler.CompileFile(path, out var errors);
        if (compiled is null)
        {
            foreach (var e in errors) stderr.WriteLine(e);
            stderr.WriteLine($"{errors.Count} error(s) in {path}; run 'sluice validate {path}'");
        }
        return compiled;
    }

    /// <summary>An online store URI: <c>sqlite:PATH</c> (embedded, the default) or <c>redis://[user:password@]host:port[/db][?tls=true]</c>.</summary>
    private sealed record OnlineUri(string? SqlitePath, string? RedisUri, string Display)
    {
        /// <summary>The SQLite file, or for Redis a placeholder path the graph never opens.</summary>
        public string GraphPath => SqlitePath ?? ".sluice/online.db";
    }

    /// <summary>The parsed URI, or null after printing why (the caller exits 2); a Redis password never appears.</summary>
    private static OnlineUri? ParseOnline(string uri, TextWriter stderr)
    {
        if (uri.StartsWith("sqlite:", StringComparison.Ordinal) && uri.Length > 7) return new OnlineUri(uri[7..], null, uri);
        if (uri.StartsWith("redis://", StringComparison.Ordinal) || uri.StartsWith("rediss://", StringComparison.Ordinal))
        {
            try { return new OnlineUri(null, uri, Sluice.Sinks.Redis.RedisConnection.Parse(uri).Display); }
            catch (FormatException e)
            {
                stderr.WriteLine($"error: --online: {e.Message}");
                return null;
            }
        }
        stderr.WriteLine($"error: --online '{uri}' is not a store URI; use sqlite:PATH or redis://host:port");
        return null;
    }

    private const string DedupHelp = "dedup store: sqlite:PATH, redis://host:port, dynamodb://HOST:PORT/TABLE, dynamodb:///TABLE?region=R, or memory "
        + "(default: beside the online store: online.dedup.db for SQLite, the same server for Redis)";

    /// <summary>The stores a replay or run writes through; those it holds are the caller's to dispose.</summary>
    private sealed record Stores(IOnlineStore? Online, IDedupStore? Dedup, string? DedupPath) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (Online is not null) await Online.DisposeAsync();
            if (Dedup is not null) await Dedup.DisposeAsync();
        }
    }

    /// <summary>
    /// Opens the online store (Redis; SQLite the graph opens itself) and the dedup store <paramref name="dedup"/> names,
    /// or by default the one beside the online store. Null after printing why (the caller exits 2).
    /// </summary>
    private static async Task<Stores?> OpenStores(OnlineUri online, string? dedup, TextWriter stderr)
    {
        IOnlineStore? store = online.RedisUri is { } redis ? await Sluice.Sinks.Redis.RedisOnlineStore.OpenAsync(redis) : null;
        try
        {
            return dedup switch
            {
                null when online.RedisUri is { } uri => new Stores(store, await Sluice.Sinks.Redis.RedisDedupStore.OpenAsync(uri), null),
                null => new Stores(store, null, DedupPathFor(online.GraphPath)),
                "memory" => new Stores(store, new InMemoryDedupStore(), null),
                _ when dedup.StartsWith("sqlite:", StringComparison.Ordinal) && dedup.Length > 7 => new Stores(store, null, dedup[7..]),
                _ when dedup.StartsWith("redis://", StringComparison.Ordinal) || dedup.StartsWith("rediss://", StringComparison.Ordinal)
                    => new Stores(store, await Sluice.Sinks.Redis.RedisDedupStore.OpenAsync(dedup), null),
                _ when dedup.StartsWith("dynamodb://", StringComparison.Ordinal)
                    => new Stores(store, await Sluice.Sinks.DynamoDb.DynamoDedupStore.OpenAsync(dedup), null),
                _ => throw new FormatException($"'{dedup}' is not a dedup store URI; use sqlite:PATH, redis://host:port, dynamodb://HOST:PORT/TABLE or memory"),
            };
        }
        catch (Exception e) when (e is FormatException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException or System.Net.Http.HttpRequestException)
        {
            if (store is not null) await store.DisposeAsync();
            stderr.WriteLine($"error: --dedup: {e.Message}");
            return null;
        }
    }

    private static async Task<int> Replay(string defsPath, string[] recordingPaths, string[]? resolvers, string? env, string online, string? dedupUri, string offline,
        string sinkDir, string deadLetter, bool json, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var defs = Load(defsPath, stderr);
        if (defs is null) return Usage;
        if (ParseOnline(online, stderr) is not { } onlineUri) return Usage;
        foreach (var p in recordingPaths)
            if (!File.Exists(p)) { stderr.WriteLine($"error: cannot read recording '{p}': no such file"); return Usage; }
        var unknown = (resolvers ?? []).Where(r => defs.Resolvers.All(x => x.Name != r)).ToList();
        if (unknown.Count > 0)
        {
            stderr.WriteLine($"error: unknown resolver {string.Join(", ", unknown)}; resolvers: {string.Join(", ", defs.Resolvers.Select(r => r.Name))}");
            return Usage;
        }
        bool live = !json && !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        await using var stores = await OpenStores(onlineUri, dedupUri, stderr);
        if (stores is null) return Usage;
        var options = new GraphOptions(onlineUri.GraphPath, sinkDir, deadLetter, offline, env, resolvers is { Length: > 0 } ? resolvers : null)
        {
            // Dedup claims persist beside the online store, as they do in Redis: a second replay of the same
            // recording is a redelivery (same positions), a new recording with old keys within the window is not.
            DedupPath = stores.DedupPath,
            Online = stores.Online,
            Dedup = stores.Dedup,
        };
        var last = DateTime.MinValue;
        var result = await StreamGraph.RunAsync(defs, ReadAll(recordingPaths, ct), options, (messages, counts) =>
        {
            if (!live || (DateTime.UtcNow - last).TotalMilliseconds < 250) return;
            last = DateTime.UtcNow;
            stderr.Write($"\r{messages:N0} messages, {counts.Values.Sum(c => c.Written):N0} written, {counts.Values.Sum(c => c.ParseFailed + c.Failed):N0} dead-lettered   ");
        }, ct);
        if (live) stderr.WriteLine();
        WriteOutcomes(stdout, json, result.Messages, result.Seconds, result.Resolvers);
        return Ok;
    }

    /// <summary>The outcome of a replay or run: <c>{"messages", "seconds", "resolvers": {name: counts}}</c> with --json, else a table.</summary>
    private static void WriteOutcomes(TextWriter stdout, bool json, long messages, double seconds, IReadOnlyDictionary<string, OutcomeCounts> resolvers)
    {
        if (json)
        {
            var doc = new Dictionary<string, object>
            {
                ["messages"] = messages,
                ["seconds"] = Math.Round(seconds, 3),
                ["resolvers"] = resolvers.ToDictionary(r => r.Key, r => (object)new Dictionary<string, long>
                {
                    ["written"] = r.Value.Written, ["filtered"] = r.Value.Filtered, ["late"] = r.Value.Late, ["skipped"] = r.Value.Skipped,
                    ["duplicate"] = r.Value.Duplicate, ["parse_failed"] = r.Value.ParseFailed, ["failed"] = r.Value.Failed,
                }),
            };
            stdout.WriteLine(JsonSerializer.Serialize(doc));
            return;
        }
        string[] head = ["resolver", "written", "filtered", "late", "skipped", "duplicate", "parse_failed", "failed"];
        WriteTable(stdout, head, resolvers.Select(r => new[] { r.Key }.Concat(Counts(r.Value)).ToArray()));
        stdout.WriteLine($"{messages:N0} messages in {seconds:F2} s ({messages / Math.Max(seconds, 1e-9):N0} msgs/s)");
    }

    private static async Task<int> RunLive(string defsPath, string[]? resolvers, string? env, string online, string? dedupUri, string offline, string sinkDir,
        string deadLetter, double? idleExit, bool json, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var defs = Load(defsPath, stderr);
        if (defs is null) return Usage;
        if (ParseOnline(online, stderr) is not { } onlineUri) return Usage;
        if (idleExit is <= 0) { stderr.WriteLine($"error: --idle-exit must be a positive number of seconds, got {idleExit}"); return Usage; }
        var only = resolvers is { Length: > 0 } ? resolvers : null;
        var unknown = (only ?? []).Where(r => defs.Resolvers.All(x => x.Name != r)).ToList();
        if (unknown.Count > 0)
        {
            stderr.WriteLine($"error: unknown resolver {string.Join(", ", unknown)}; resolvers: {string.Join(", ", defs.Resolvers.Select(r => r.Name))}");
            return Usage;
        }
        var kafkaPlans = KafkaRunner.Resolvers(defs, env, only);
        var kinesisPlans = KinesisRunner.Resolvers(defs, env, only);
        var pubsubPlans = PubSubRunner.Resolvers(defs, env, only);
        var plans = kafkaPlans.Concat(kinesisPlans).Concat(pubsubPlans).ToList();
        if (plans.Count == 0)
        {
            stderr.WriteLine($"error: no resolver of {defsPath} reads a kafka, kinesis or pubsub source{(env is null ? "" : $" in environment '{env}'")}; 'sluice replay' reads recordings");
            return Usage;
        }
        bool live = !json && !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        // Offsets advance when every target is durable; offline rows are durable when their file closes, so live files
        // roll every 10 s (replay keeps a minute: its files close at the end anyway).
        await using var stores = await OpenStores(onlineUri, dedupUri, stderr);
        if (stores is null) return Usage;
        var options = new GraphOptions(onlineUri.GraphPath, sinkDir, deadLetter, offline, env, only)
        {
            DedupPath = stores.DedupPath,
            OfflineFileAge = TimeSpan.FromSeconds(10),
            Online = stores.Online,
            Dedup = stores.Dedup,
        };
        var sourceOptions = new KafkaSourceOptions { IdleExit = idleExit is { } s ? TimeSpan.FromSeconds(s) : null };
        var progress = new Dictionary<string, (long Messages, OutcomeCounts Counts)>(StringComparer.Ordinal);
        var last = DateTime.MinValue;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        if (!json) stderr.WriteLine($"sluice run: {string.Join(", ", plans.Select(p => $"{p.Name} <- {p.Source.Name}"))}; Ctrl-C stops after committing");
        IReadOnlyDictionary<string, OutcomeCounts> counts;
        try
        {
            void Progress(string name, long messages, OutcomeCounts c)
            {
                lock (progress)
                {
                    progress[name] = (messages, c);
                    if (!live || (DateTime.UtcNow - last).TotalMilliseconds < 250) return;
                    last = DateTime.UtcNow;
                    long m = progress.Values.Sum(x => x.Messages);
                    stderr.Write($"\r{m:N0} messages ({m / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):N0}/s), {progress.Values.Sum(x => x.Counts.Written):N0} written, {progress.Values.Sum(x => x.Counts.ParseFailed + x.Counts.Failed):N0} dead-lettered   ");
                }
            }
            // Kinesis checkpoints live beside the dead-letter file (.sluice/kinesis-checkpoints.db by default).
            var kinesisOptions = new KinesisSourceOptions
            {
                IdleExit = sourceOptions.IdleExit,
                CheckpointPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(deadLetter)) ?? ".sluice", "kinesis-checkpoints.db"),
            };
            var runs = new List<Task<IReadOnlyDictionary<string, OutcomeCounts>>>();
            if (kafkaPlans.Count > 0)
                runs.Add(KafkaRunner.RunAsync(defs, options with { Resolvers = kafkaPlans.Select(p => p.Name).ToList() }, sourceOptions, Progress,
                    warning => { lock (progress) stderr.WriteLine($"{(live ? "\n" : "")}warning: {warning}"); }, ct));
            if (kinesisPlans.Count > 0)
                runs.Add(KinesisRunner.RunAsync(defs, options with { Resolvers = kinesisPlans.Select(p => p.Name).ToList() }, kinesisOptions, Progress, ct));
            if (pubsubPlans.Count > 0)
                runs.Add(PubSubRunner.RunAsync(defs, options with { Resolvers = pubsubPlans.Select(p => p.Name).ToList() },
                    new PubSubSourceOptions { IdleExit = sourceOptions.IdleExit }, Progress, ct));
            counts = (await Task.WhenAll(runs)).SelectMany(r => r).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        }
        catch (Confluent.Kafka.KafkaException e)
        {
            stderr.WriteLine($"error: Kafka: {e.Message}");
            return Usage;
        }
        catch (Exception e) when (e is KinesisException or HttpRequestException || e.InnerException is KinesisException or HttpRequestException)
        {
            stderr.WriteLine($"error: Kinesis: {(e.InnerException ?? e).Message}");
            return Usage;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException || e.InnerException is Grpc.Core.RpcException)
        {
            stderr.WriteLine($"error: Pub/Sub: {(e.InnerException ?? e).Message}");
            return Usage;
        }
        if (live) stderr.WriteLine();
        long total = counts.Values.Sum(c => c.Total);
        WriteOutcomes(stdout, json, total, sw.Elapsed.TotalSeconds, counts);
        return Ok;
    }

    private static int MissingRecordSource(TextWriter stderr)
    {
        stderr.WriteLine("error: record needs --bootstrap-servers and --topic (Kafka), --kinesis-stream (Kinesis) or --pubsub-project and --pubsub-subscription (Pub/Sub)");
        return Usage;
    }

    private static async Task<int> RecordPubSub(string? project, string subscription, string outPath, long? maxMessages, double? idleExit,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (project is null) { stderr.WriteLine("error: --pubsub-subscription needs --pubsub-project"); return Usage; }
        if (!outPath.EndsWith(".arrows", StringComparison.OrdinalIgnoreCase) && !outPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            stderr.WriteLine($"error: --out '{outPath}' must end in .arrows or .jsonl");
            return Usage;
        }
        try
        {
            long n = await PubSubRecorder.RecordAsync(new PubSubRecorder.Options(project, subscription, outPath)
                { MaxMessages = maxMessages, IdleExit = TimeSpan.FromSeconds(idleExit ?? 2) }, ct);
            stdout.WriteLine($"{n:N0} messages recorded to {outPath}");
            return Ok;
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException)
        {
            stderr.WriteLine($"error: Pub/Sub: {e.Message}");
            return Usage;
        }
    }

    private static async Task<int> RecordKinesis(string stream, string? endpoint, string region, string outPath, long? maxMessages, bool fromBeginning,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (!outPath.EndsWith(".arrows", StringComparison.OrdinalIgnoreCase) && !outPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            stderr.WriteLine($"error: --out '{outPath}' must end in .arrows or .jsonl");
            return Usage;
        }
        try
        {
            long n = await KinesisRecorder.RecordAsync(new KinesisRecorder.Options(stream, outPath)
                { EndpointUrl = endpoint, Region = region, MaxMessages = maxMessages, FromBeginning = fromBeginning }, stop: ct);
            stdout.WriteLine($"{n:N0} messages recorded to {outPath}");
            return Ok;
        }
        catch (Exception e) when (e is KinesisException or HttpRequestException)
        {
            stderr.WriteLine($"error: Kinesis: {e.Message}");
            return Usage;
        }
    }

    private static async Task<int> Record(string bootstrap, string topic, string outPath, long? maxMessages, bool fromBeginning, double? idleExit,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (!outPath.EndsWith(".arrows", StringComparison.OrdinalIgnoreCase) && !outPath.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            stderr.WriteLine($"error: --out '{outPath}' must end in .arrows or .jsonl");
            return Usage;
        }
        if (maxMessages is <= 0) { stderr.WriteLine($"error: --max-messages must be positive, got {maxMessages}"); return Usage; }
        bool live = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
        var options = new KafkaRecorder.Options(bootstrap, topic, outPath)
        {
            MaxMessages = maxMessages, FromBeginning = fromBeginning, IdleExit = idleExit is { } s ? TimeSpan.FromSeconds(s) : null,
        };
        long n = await KafkaRecorder.RecordAsync(options, count => { if (live) stderr.Write($"\r{count:N0} messages recorded   "); }, ct);
        if (live) stderr.WriteLine();
        stdout.WriteLine($"recorded {n:N0} messages from {topic} to {outPath}");
        return Ok;
    }

    /// <summary>The dedup store of an embedded online store: <c>.sluice/online.db</c> -> <c>.sluice/online.dedup.db</c>.</summary>
    internal static string DedupPathFor(string onlinePath) =>
        Path.Combine(Path.GetDirectoryName(onlinePath) ?? "", Path.GetFileNameWithoutExtension(onlinePath) + ".dedup.db");

    private static async Task<int> Profile(string defsPath, string recording, int repeat, string? jsonPath, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var defs = Load(defsPath, stderr);
        if (defs is null) return Usage;
        if (!File.Exists(recording)) { stderr.WriteLine($"error: cannot read recording '{recording}': no such file"); return Usage; }
        if (repeat < 1) { stderr.WriteLine($"error: --repeat must be at least 1, got {repeat}"); return Usage; }
        var dir = Directory.CreateTempSubdirectory("sluice-profile-").FullName;
        try
        {
            var options = new GraphOptions(Path.Combine(dir, "online.db"), Path.Combine(dir, "sinks"), Path.Combine(dir, "dead-letter.jsonl"), Path.Combine(dir, "offline"));
            var result = await StreamGraph.RunAsync(defs, ReadAll(Enumerable.Repeat(recording, repeat).ToArray(), ct), options, cancellationToken: ct);
            double wall = Math.Max(result.Seconds, 1e-9);
            var blocks = result.Blocks.Select(b => new
            {
                name = b.Name,
                parallelism = b.Parallelism,
                rows_in = b.RowsIn,
                rows_out = b.RowsOut,
                busy_seconds = Math.Round(b.Busy.TotalSeconds, 3),
                busy_pct = Math.Round(100 * b.Busy.TotalSeconds / (wall * b.Parallelism), 1),
                queue_depth_mean = Math.Round(b.QueueDepthMean, 2),
                queue_depth_max = b.QueueDepthMax,
                rows_per_busy_s = b.Busy.TotalSeconds > 0 ? Math.Round(b.RowsIn / b.Busy.TotalSeconds) : 0,
            }).ToList();
            WriteTable(stdout, ["block", "dop", "rows_in", "rows_out", "busy%", "queue", "max", "rows/busy-s"], blocks.Select(b => new[]
            {
                b.name, b.parallelism.ToString(Inv), b.rows_in.ToString(Inv), b.rows_out.ToString(Inv), b.busy_pct.ToString("F1", Inv),
                b.queue_depth_mean.ToString("F1", Inv), b.queue_depth_max.ToString(Inv), b.rows_per_busy_s.ToString("N0", Inv),
            }));
            stdout.WriteLine($"{result.Messages:N0} messages in {result.Seconds:F2} s ({result.Messages / wall:N0} msgs/s); busy% is of the block's workers over the run");
            if (jsonPath is not null)
            {
                var doc = new { messages = result.Messages, seconds = Math.Round(result.Seconds, 3), msgs_per_s = Math.Round(result.Messages / wall), repeat, blocks };
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            }
            return Ok;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static readonly System.Globalization.CultureInfo Inv = System.Globalization.CultureInfo.InvariantCulture;

    /// <summary>A plain text table: the first column left-aligned, the others right-aligned, two spaces apart.</summary>
    private static void WriteTable(TextWriter stdout, string[] head, IEnumerable<string[]> body)
    {
        var rows = body.Prepend(head).ToList();
        var widths = Enumerable.Range(0, head.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            stdout.WriteLine(string.Join("  ", row.Select((v, c) => c == 0 ? v.PadRight(widths[c]) : v.PadLeft(widths[c]))));
    }

    /// <summary>The table cells of one resolver's counts, in the order of the header.</summary>
    private static IEnumerable<string> Counts(OutcomeCounts c) =>
        new[] { c.Written, c.Filtered, c.Late, c.Skipped, c.Duplicate, c.ParseFailed, c.Failed }.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async IAsyncEnumerable<Sluice.Pipeline.Messages.MessageBatch> ReadAll(string[] paths, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var p in paths)
            await foreach (var b in RecordingFile.ReadAsync(p, 4096, ct)) yield return b;
    }

    private static async Task<int> Get(string defsPath, string online, string className, string key, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var defs = Load(defsPath, stderr);
        if (defs is null) return Usage;
        if (ParseOnline(online, stderr) is not { } onlineUri) return Usage;
        var cls = defs.Classes.FirstOrDefault(c => c.Name == className || c.Namespace == className);
        if (cls is null)
        {
            stderr.WriteLine($"error: unknown feature class '{className}'; classes: {string.Join(", ", defs.Classes.Select(c => c.Name))}");
            return Usage;
        }
        if (onlineUri.SqlitePath is { } path && !File.Exists(path))
        {
            stderr.WriteLine($"error: no online store at '{path}' (run sluice replay first)");
            return Invalid;
        }
        await using IOnlineStore store = onlineUri.SqlitePath is { } file
            ? await SqliteOnlineStore.OpenAsync(file, cancellationToken: ct)
            : await Sluice.Sinks.Redis.RedisOnlineStore.OpenAsync(onlineUri.RedisUri!, giveUpAfter: TimeSpan.FromSeconds(5));
        string? json;
        try
        {
            json = await store.GetAsync(cls, key, ct);
        }
        catch (InvalidOperationException e) when (onlineUri.RedisUri is not null)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Usage;
        }
        if (json is null)
        {
            stderr.WriteLine($"no {cls.Name} with {cls.Primary.Fqn} = {key} in {onlineUri.Display} (never written, or expired after max_staleness)");
            return Invalid;
        }
        stdout.WriteLine(json);
        return Ok;
    }
}
