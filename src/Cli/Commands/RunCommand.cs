using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Runtime;

namespace Sluice.Cli;

/// <summary>
/// <c>sluice run &lt;defs.yaml&gt;</c>: serves every resolver whose source is live (Kafka, Kinesis, Pub/Sub) until Ctrl-C or
/// <c>--idle-exit</c>; positions are committed only over messages whose every target is durable.
/// </summary>
internal static class RunCommand
{
    public static Command Create(Io io)
    {
        var defs = CommonOptions.Definitions();
        var resolver = CommonOptions.Resolver();
        var env = CommonOptions.Environment();
        var stores = new StoreOptions("where sinks to recording targets write", "the dead-letter file, for sources without dead_letter_queue_topic");
        var idleExit = new Option<double?>("--idle-exit") { Description = "exit once the sources were read to their end and idle this many seconds, having committed everything" };
        var json = CommonOptions.Json();
        var operations = new OperationsOptions();
        var command = new Command("run", "serve the resolvers of live sources (Kafka, Kinesis, Pub/Sub) until SIGTERM or Ctrl-C (or --idle-exit)") { defs, resolver, env, idleExit, json };
        foreach (var o in stores.All.Concat(operations.All)) command.Options.Add(o);
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(defs)!, parse.GetValue(resolver), parse.GetValue(env), stores.Read(parse, io), parse.GetValue(idleExit),
            parse.GetValue(json), operations.Read(parse, io), io, ct));
        return command;
    }

    private static async Task<int> RunAsync(string defsPath, string[]? resolvers, string? env, RuntimeOptions? options, double? idleExit, bool json,
        OperationsSettings? settings, Io io, CancellationToken ct)
    {
        var defs = CommonOptions.Load(defsPath, io);
        if (defs is null || options is null || settings is null) return CliApp.Usage;
        if (idleExit is <= 0) { io.Err.WriteLine($"error: --idle-exit must be a positive number of seconds, got {idleExit}"); return CliApp.Usage; }
        bool live = io.Interactive(json);
        var progress = new Output.Progress(io, live);
        options = options with
        {
            Resolvers = resolvers is { Length: > 0 } ? resolvers : null,
            Environment = env,
            LiveOnly = true,
            IdleExit = idleExit is { } s ? TimeSpan.FromSeconds(s) : null,
            Progress = progress.Report,
        };
        await using var session = await OperationsSession.StartAsync(settings, io, "sluice run", ct);
        options = options with { Warn = warning => session.Log.LogWarning("{Warning}", warning) };
        var served = defs.Resolvers.Where(r => r.RunsIn(env) && (options.Resolvers?.Contains(r.Name) ?? true) && Defaults.Connectors.Sources[r.Source.Kind.Value].Live);
        if (!json) io.Err.WriteLine($"sluice run: {string.Join(", ", served.Select(p => $"{p.Name} <- {p.Source.Name}"))}; SIGTERM or Ctrl-C stops after committing");
        RunResult result;
        try
        {
            result = await PipelineRuntime.RunAsync(defs, Defaults.Connectors, options, session.Stopping);
        }
        catch (RunStoppedException e)
        {
            progress.Done();
            Output.Outcomes(io.Out, json, e.Partial.Messages, e.Partial.Seconds, e.Partial.Resolvers);
            io.Err.WriteLine($"error: {e.Message}");
            return CliApp.Usage;
        }
        progress.Done();
        Output.Outcomes(io.Out, json, result.Messages, result.Seconds, result.Resolvers);
        return CliApp.Ok;
    }
}
