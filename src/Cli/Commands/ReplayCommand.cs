using System.CommandLine;
using Sluice.Pipeline.Runtime;
using Sluice.Sources;

namespace Sluice.Cli;

/// <summary>
/// <c>sluice replay &lt;defs.yaml&gt; &lt;recording&gt;...</c>: the recordings stand in for the source of every selected
/// resolver; rows go to the stores, sinks to files in the sink folder, failed messages to the dead-letter file; prints
/// the outcome table (or JSON).
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(Io io)
    {
        var defs = CommonOptions.Definitions();
        var recordings = new Argument<string[]>("recording") { Description = "recordings (.jsonl or .arrows)", Arity = ArgumentArity.OneOrMore };
        var resolver = CommonOptions.Resolver();
        var env = CommonOptions.Environment();
        var stores = new StoreOptions("where sinks write (<target>.jsonl or .arrows)", "the dead-letter file (a replayable recording)");
        var json = CommonOptions.Json();
        var failOnDeadLetters = new Option<bool>("--fail-on-dead-letters")
        {
            Description = "exit 1 when any message was dead-lettered (parse_failed or failed), for CI pipelines",
        };
        var operations = new OperationsOptions();
        var command = new Command("replay", "replay recordings into the stores; print the outcome table") { defs, recordings, resolver, env, json, failOnDeadLetters };
        foreach (var o in stores.All.Concat(operations.All)) command.Options.Add(o);
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(defs)!, parse.GetValue(recordings)!, parse.GetValue(resolver), parse.GetValue(env), stores.Read(parse, io),
            parse.GetValue(json), parse.GetValue(failOnDeadLetters), operations.Read(parse, io), io, ct));
        return command;
    }

    private static async Task<int> RunAsync(string defsPath, string[] recordings, string[]? resolvers, string? env, RuntimeOptions? options, bool json,
        bool failOnDeadLetters, OperationsSettings? settings, Io io, CancellationToken ct)
    {
        var defs = CommonOptions.Load(defsPath, io);
        if (defs is null || options is null || settings is null) return CliApp.Usage;
        foreach (var p in recordings)
            if (!File.Exists(p)) { io.Err.WriteLine($"error: cannot read recording '{p}': no such file"); return CliApp.Usage; }
        var progress = new Output.Progress(io, io.Interactive(json));
        await using var session = await OperationsSession.StartAsync(settings, io, "sluice replay", ct);
        // Dedup claims persist beside the online store, as they do in Redis: a second replay of the same recording is
        // a redelivery (same positions), a new recording with old keys within the window is not.
        RunResult result;
        try
        {
            result = await PipelineRuntime.RunAsync(defs, Defaults.Connectors, options with
            {
                Replay = new RecordingSource(recordings),
                Resolvers = resolvers is { Length: > 0 } ? resolvers : null,
                Environment = env,
                Progress = progress.Report,
            }, session.Stopping);
        }
        catch (RunStoppedException e)
        {
            // A bad input mid-file: what was read before it is in every store; say how far the run got, then why it stopped.
            progress.Done();
            Output.Outcomes(io.Out, json, e.Partial.Messages, e.Partial.Seconds, e.Partial.Resolvers);
            io.Err.WriteLine($"error: {e.Message}");
            return CliApp.Usage;
        }
        progress.Done();
        Output.Outcomes(io.Out, json, result.Messages, result.Seconds, result.Resolvers);
        long dead = result.Resolvers.Values.Sum(c => c.ParseFailed + c.Failed);
        if (failOnDeadLetters && dead > 0)
        {
            io.Err.WriteLine($"error: {dead} message{(dead == 1 ? " was" : "s were")} dead-lettered (--fail-on-dead-letters); they are in the dead-letter target with why and where");
            return CliApp.Invalid;
        }
        return CliApp.Ok;
    }
}
