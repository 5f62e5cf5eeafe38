using System.CommandLine;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Sources;

namespace Sluice.Cli;

/// <summary>
/// <c>sluice record</c>: copies what a source holds into a recording that <c>replay</c> reads back. The source is a
/// declared one (<c>--defs F --source NAME</c>: every option of the definition applies, security included) or one given
/// by flags: a Kafka topic, a Kinesis stream or a Pub/Sub subscription. Flags of another kind are rejected.
/// </summary>
internal static class RecordCommand
{
    public static Command Create(Io io)
    {
        var defs = new Option<string?>("--defs") { Description = "a definition file declaring the source to record (with --source)" };
        var source = new Option<string?>("--source") { Description = "the declared source to record, with all its options (with --defs)" };
        var bootstrap = new Option<string?>("--bootstrap-servers") { Description = "Kafka brokers (with --topic)" };
        var topic = new Option<string?>("--topic") { Description = "the Kafka topic to record" };
        var kinesisStream = new Option<string?>("--kinesis-stream") { Description = "the Kinesis stream to record" };
        var endpointUrl = new Option<string?>("--endpoint-url") { Description = "the Kinesis endpoint (default: the region's AWS endpoint)" };
        var region = new Option<string?>("--region") { Description = "the AWS region of --kinesis-stream (default us-east-1)" };
        var pubsubProject = new Option<string?>("--pubsub-project") { Description = "the Google Cloud project of --pubsub-subscription" };
        var pubsubSubscription = new Option<string?>("--pubsub-subscription") { Description = "the Pub/Sub subscription to record (its messages are acknowledged once written: give the recorder its own)" };
        var outPath = new Option<string>("--out") { Description = "the recording to write (.arrows or .jsonl)", Required = true };
        var maxMessages = new Option<long?>("--max-messages") { Description = "stop after this many messages" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "start at the oldest message (default: new messages only)" };
        var idleExit = new Option<double?>("--idle-exit") { Description = "stop once no message arrived for this many seconds" };
        var json = CommonOptions.Json();
        var command = new Command("record", "copy a source (a Kafka topic, a Kinesis stream, a Pub/Sub subscription) into a recording that replay reads back")
            { defs, source, bootstrap, topic, kinesisStream, endpointUrl, region, pubsubProject, pubsubSubscription, outPath, maxMessages, fromBeginning, idleExit, json };

        // The flags each kind takes; any other given flag is an error.
        var byKind = new Dictionary<string, Option[]>
        {
            ["kafka"] = [bootstrap, topic],
            ["kinesis"] = [kinesisStream, endpointUrl, region],
            ["pubsub"] = [pubsubProject, pubsubSubscription],
        };
        command.SetAction((parse, ct) =>
        {
            if (parse.GetValue(maxMessages) is <= 0) return Fail(io, $"--max-messages must be positive, got {parse.GetValue(maxMessages)}");
            if (parse.GetValue(idleExit) is <= 0) return Fail(io, $"--idle-exit must be a positive number of seconds, got {parse.GetValue(idleExit)}");
            SourceDef? def;
            string kindName;
            if (parse.GetValue(defs) is { } defsPath || parse.GetValue(source) is not null)
            {
                var given = byKind.Values.SelectMany(o => o).FirstOrDefault(o => parse.GetResult(o) is not null);
                if (given is not null) return Fail(io, $"{given.Name} does not go with --defs/--source (the definition gives the source's options)");
                if (parse.GetValue(defs) is not { } path || parse.GetValue(source) is not { } name) return Fail(io, "--defs and --source go together");
                var compiled = CommonOptions.Load(path, io);
                if (compiled is null) return Task.FromResult(CliApp.Usage);
                if (!compiled.Sources.TryGetValue(name, out def))
                    return Fail(io, $"{path} declares no source '{name}'; sources: {string.Join(", ", compiled.Sources.Keys)}");
                kindName = def.Kind.Value;
            }
            else
            {
                kindName = parse.GetValue(pubsubSubscription) is not null ? "pubsub" : parse.GetValue(kinesisStream) is not null ? "kinesis"
                    : parse.GetValue(bootstrap) is not null || parse.GetValue(topic) is not null ? "kafka" : "";
                if (kindName.Length == 0)
                    return Fail(io, "record needs --bootstrap-servers and --topic (Kafka), --kinesis-stream (Kinesis), --pubsub-project and --pubsub-subscription (Pub/Sub), or --defs and --source");
                var foreign = byKind.Where(k => k.Key != kindName).SelectMany(k => k.Value).FirstOrDefault(o => parse.GetResult(o) is not null);
                if (foreign is not null) return Fail(io, $"{foreign.Name} does not go with a {kindName} source");
                def = kindName switch
                {
                    "kafka" when parse.GetValue(bootstrap) is { } servers && parse.GetValue(topic) is { } t => Def("kafka", ("bootstrap_servers", servers), ("topic", t)),
                    "kafka" => null,
                    "kinesis" => Def("kinesis", ("stream_name", parse.GetValue(kinesisStream)), ("endpoint_url", parse.GetValue(endpointUrl)), ("region_name", parse.GetValue(region))),
                    _ when parse.GetValue(pubsubProject) is { } project => Def("pubsub", ("project_id", project), ("subscription_id", parse.GetValue(pubsubSubscription))),
                    _ => null,
                };
                if (def is null) return Fail(io, kindName == "kafka" ? "record needs both --bootstrap-servers and --topic" : "--pubsub-subscription needs --pubsub-project");
            }
            // A subscription delivers from its own position: where it starts is set on the subscription (a seek), not here.
            if (kindName == "pubsub" && parse.GetValue(fromBeginning))
                return Fail(io, "--from-beginning does not go with a pubsub source: a subscription delivers from its own position (seek it first: gcloud pubsub subscriptions seek)");
            var options = new RecordOptions
            {
                FromBeginning = parse.GetValue(fromBeginning),
                MaxMessages = parse.GetValue(maxMessages),
                IdleExit = parse.GetValue(idleExit) is { } s ? TimeSpan.FromSeconds(s) : null,
            };
            return RunAsync(Defaults.Connectors.Sources[kindName], def, options, parse.GetValue(outPath)!, parse.GetValue(json), io, ct);
        });
        return command;
    }

    private static Task<int> Fail(Io io, string message)
    {
        io.Err.WriteLine($"error: {message}");
        return Task.FromResult(CliApp.Usage);
    }

    /// <summary>A source given by flags, as a definition would declare it.</summary>
    private static SourceDef Def(string kind, params (string Key, string? Value)[] options)
    {
        var at = new SourceLocation("command line", 0, 0);
        return new SourceDef("record", new Located<string>(kind, at),
            options.Where(o => o.Value is not null).ToDictionary(o => o.Key, o => new Located<string>(o.Value!, at), StringComparer.Ordinal), at);
    }

    private static async Task<int> RunAsync(ISourceKind kind, SourceDef source, RecordOptions options, string outPath, bool json, Io io, CancellationToken ct)
    {
        if (!RecordingFile.IsRecording(outPath)) return await Fail(io, $"--out '{outPath}' must end in .arrows or .jsonl");
        bool live = io.Interactive(json);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long n = await Recorder.RecordAsync(kind, source, options, outPath, count => { if (live) io.Err.Write($"\r{count:N0} messages recorded   "); }, ct);
        if (live) io.Err.WriteLine();
        if (json)
            io.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["messages"] = n, ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 3), ["kind"] = source.Kind.Value, ["out"] = outPath,
            }));
        else io.Out.WriteLine($"recorded {n:N0} messages from {source.Kind.Value} source {Describe(source)} to {outPath}");
        return CliApp.Ok;
    }

    private static string Describe(SourceDef s) =>
        s.Options.TryGetValue("topic", out var t) ? t.Value
        : s.Options.TryGetValue("stream_name", out var k) ? k.Value
        : s.Options.TryGetValue("subscription_id", out var p) ? p.Value
        : s.Name;
}
