using System.Diagnostics;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Runtime;
using Sluice.Sources;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// replay: a generated .arrows recording of the seed's UserMessage replayed through the users resolver into the
/// embedded stores (SQLite online + Parquet offline), end to end as 'sluice replay' does it.
/// </summary>
internal static class ReplayBenchmark
{
    /// <summary>The seed's users resolver reading the generated recording.</summary>
    internal static readonly string Definitions = SeedUsers.Yaml("{kind: recording, path: users.arrows}");

    public static async Task<int> RunAsync(int messages, string? jsonPath, int? commitRows = null)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-replay-bench-").FullName;
        try
        {
            var recording = Path.Combine(dir, "users.arrows");
            Console.Error.WriteLine($"replay: writing a {messages:N0}-message .arrows recording...");
            await RecordingFile.WriteAsync(recording, Generate(messages));
            var defs = DefinitionCompiler.CompileText(Definitions, "bench.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
            // Two replays of the recording into fresh stores in one process: the first pays for compiling the graph,
            // stores and kernels (about 1.3-1.8 s of JIT on two cores); the second runs as a long-lived `sluice run` does.
            var (coldSeconds, _) = await ReplayOnce(defs, recording, Path.Combine(dir, "cold"), commitRows, messages);
            var (seconds, peak) = await ReplayOnce(defs, recording, Path.Combine(dir, "warm"), commitRows, messages);
            var report = new
            {
                benchmark = "replay/arrows_users_167B/sqlite+parquet",
                messages,
                msgs_per_s = Math.Round(messages / seconds),
                cold_msgs_per_s = Math.Round(messages / coldSeconds),
                peak_working_set_mb = Math.Round(peak / 1048576.0, 1),
                processors = Environment.ProcessorCount,
            };
            Console.WriteLine($"replay: {report.msgs_per_s:N0} msgs/s into SQLite + Parquet ({report.cold_msgs_per_s:N0} on the first, cold replay); peak working set {report.peak_working_set_mb} MB; {report.processors} cores");
            Report.Write(jsonPath, report);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>One replay into stores under <paramref name="dir"/>: its seconds and peak working set; prints the graph's metrics.</summary>
    private static async Task<(double Seconds, long PeakWorkingSet)> ReplayOnce(CompiledDefinitions defs, string recording, string dir, int? commitRows, int messages)
    {
        // What `sluice replay` runs: the recording stands in for the resolver's source; dedup in memory as before.
        var options = TestRuns.In(dir) with { Dedup = "memory", Replay = new RecordingSource([recording]) };
        if (commitRows is { } rows) options = options with { Graph = options.Graph with { CommitRows = rows } };
        long peak = 0;
        using var sampler = new Timer(_ => peak = Math.Max(peak, Process.GetCurrentProcess().WorkingSet64), null, 0, 100);
        long allocated0 = GC.GetTotalAllocatedBytes();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var pause0 = GC.GetTotalPauseDuration();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var jit0 = System.Runtime.JitInfo.GetCompilationTime();
        long methods0 = System.Runtime.JitInfo.GetCompiledMethodCount();
        var sw = Stopwatch.StartNew();
        var result = await PipelineRuntime.RunAsync(defs, TestDefinitions.Connectors, options);
        sw.Stop();
        peak = Math.Max(peak, Process.GetCurrentProcess().WorkingSet64);
        var counts = result.Resolvers["get_users_stream"];
        if (counts.Written != messages) throw new InvalidOperationException($"wrote {counts.Written} of {messages}");
        Console.Error.WriteLine($"replay into {Path.GetFileName(dir)} stores: {messages / sw.Elapsed.TotalSeconds:N0} msgs/s");
        foreach (var b in result.Blocks)
            Console.Error.WriteLine($"  {b.Name,-28} busy {b.Busy.TotalSeconds,6:F2} s  queue mean {b.QueueDepthMean,5:F1} max {b.QueueDepthMax}");
        Console.Error.WriteLine($"  GCs gen0 {GC.CollectionCount(0) - gen0}, gen1 {GC.CollectionCount(1) - gen1}, gen2 {GC.CollectionCount(2) - gen2}; " +
            $"allocated {(GC.GetTotalAllocatedBytes() - allocated0) / (double)messages:F0} B/msg; GC pause {(GC.GetTotalPauseDuration() - pause0).TotalSeconds:F2} s; " +
            $"CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds:F2} s in {sw.Elapsed.TotalSeconds:F2} s; " +
            $"JIT {(System.Runtime.JitInfo.GetCompilationTime() - jit0).TotalSeconds:F2} s for {System.Runtime.JitInfo.GetCompiledMethodCount() - methods0:N0} methods");
        return (sw.Elapsed.TotalSeconds, peak);
    }

    internal static async IAsyncEnumerable<MessageBatch> Generate(int count)
    {
        const int chunk = 100_000;
        for (int start = 0; start < count; start += chunk)
        {
            var payloads = UserMessages.Generate(Math.Min(chunk, count - start), seed: start);
            var b = new MessageBatch.Builder();
            for (int i = 0; i < payloads.Length; i++)
            {
                long offset = start + i;
                b.Append("users", 0, offset, 1_700_000_000_000_000 + offset * 1000, null, payloads[i]);
                if (b.Length == 4096) yield return b.Build();
            }
            if (b.Length > 0) yield return b.Build();
            await Task.Yield();
        }
    }
}
