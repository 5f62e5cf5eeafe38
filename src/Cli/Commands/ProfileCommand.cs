using System.CommandLine;
using System.Text.Json;
using Sluice.Pipeline.Runtime;
using Sluice.Sources;

namespace Sluice.Cli;

/// <summary>
/// <c>sluice profile &lt;defs.yaml&gt; &lt;recording&gt;</c>: replays into temporary stores and prints, per block of the
/// graph, rows in and out, busy %, mean and max input queue depth and rows per busy second.
/// </summary>
internal static class ProfileCommand
{
    public static Command Create(Io io)
    {
        var defs = CommonOptions.Definitions();
        var recording = new Argument<string>("recording") { Description = "a recording (.jsonl or .arrows)" };
        var repeat = new Option<int>("--repeat") { Description = "feed the recording this many times", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json")
        {
            Description = "print the figures as JSON instead of the table, or with a FILE, also write them to that file",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var resolver = CommonOptions.Resolver();
        var env = CommonOptions.Environment();
        var command = new Command("profile", "replay into temporary stores and print per-block throughput, busy %, queue depth") { defs, recording, repeat, json, resolver, env };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(defs)!, parse.GetValue(recording)!, parse.GetValue(repeat),
            parse.GetResult(json) is null ? null : parse.GetValue(json) ?? "", parse.GetValue(resolver),
            parse.GetValue(env), io, ct));
        return command;
    }

    /// <param name="jsonPath">null: the table only; "": the JSON on stdout instead; a path: the table, and the JSON in that file.</param>
    private static async Task<int> RunAsync(string defsPath, string recording, int repeat, string? jsonPath, string[]? resolvers, string? env, Io io, CancellationToken ct)
    {
        var defs = CommonOptions.Load(defsPath, io);
        if (defs is null) return CliApp.Usage;
        if (!File.Exists(recording)) { io.Err.WriteLine($"error: cannot read recording '{recording}': no such file"); return CliApp.Usage; }
        if (repeat < 1) { io.Err.WriteLine($"error: --repeat must be at least 1, got {repeat}"); return CliApp.Usage; }
        var dir = Directory.CreateTempSubdirectory("sluice-profile-").FullName;
        try
        {
            var result = await PipelineRuntime.RunAsync(defs, Defaults.Connectors, new RuntimeOptions
            {
                Online = "sqlite:" + Path.Combine(dir, "online.db"),
                Dedup = "memory",
                OfflineDirectory = Path.Combine(dir, "offline"),
                SinkDirectory = Path.Combine(dir, "sinks"),
                DeadLetterPath = Path.Combine(dir, "dead-letter.jsonl"),
                Replay = new RecordingSource(Enumerable.Repeat(recording, repeat).ToArray()),
                Resolvers = resolvers is { Length: > 0 } ? resolvers : null,
                Environment = env,
            }, ct);
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
            var doc = new { messages = result.Messages, seconds = Math.Round(result.Seconds, 3), msgs_per_s = Math.Round(result.Messages / wall), repeat, blocks };
            var text = JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });
            if (jsonPath == "")
            {
                io.Out.WriteLine(text); // --json alone: the result as JSON on stdout, as every command's --json
                return CliApp.Ok;
            }
            Output.Table(io.Out, ["block", "dop", "rows_in", "rows_out", "busy%", "queue", "max", "rows/busy-s"], blocks.Select(b => new[]
            {
                b.name, b.parallelism.ToString(Output.Inv), b.rows_in.ToString(Output.Inv), b.rows_out.ToString(Output.Inv), b.busy_pct.ToString("F1", Output.Inv),
                b.queue_depth_mean.ToString("F1", Output.Inv), b.queue_depth_max.ToString(Output.Inv), b.rows_per_busy_s.ToString("N0", Output.Inv),
            }));
            io.Out.WriteLine($"{result.Messages:N0} messages in {result.Seconds:F2} s ({result.Messages / wall:N0} msgs/s); busy% is of the block's workers over the run");
            if (jsonPath is not null) await File.WriteAllTextAsync(jsonPath, text, ct);
            return CliApp.Ok;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
