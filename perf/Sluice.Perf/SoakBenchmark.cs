using System.Diagnostics;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Runtime;
using Sluice.Sources;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// soak: one long replay (10M messages by default) of the replay benchmark's recording into SQLite + Parquet, with the
/// process's peak working set taken when the first million messages were processed and at the end. Flat means the
/// ratio stays near 1: nothing grows with the number of messages (the online store's rows live on disk, not in memory).
/// </summary>
internal static class SoakBenchmark
{
    public static async Task<int> RunAsync(int messages, string? jsonPath)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-soak-").FullName;
        try
        {
            var recording = Path.Combine(dir, "users.arrows");
            Console.Error.WriteLine($"soak: writing a {messages:N0}-message .arrows recording...");
            await RecordingFile.WriteAsync(recording, ReplayBenchmark.Generate(messages));
            var defs = DefinitionCompiler.CompileText(ReplayBenchmark.Definitions, "bench.yaml", TestDefinitions.Connectors, out var errors)
                ?? throw new InvalidOperationException(string.Join("\n", errors));
            long peak = 0, peakAtMillion = 0, processed = 0;
            var marks = new List<object>();
            var sw = Stopwatch.StartNew();
            using var sampler = new Timer(_ => Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), Process.GetCurrentProcess().WorkingSet64)), null, 0, 100);
            long nextMark = 1_000_000;
            var options = TestRuns.In(Path.Combine(dir, "stores")) with
            {
                Dedup = "memory",
                Replay = new RecordingSource([recording]),
                Progress = (n, _) =>
                {
                    processed = n;
                    if (n < nextMark) return;
                    long p = Math.Max(Interlocked.Read(ref peak), Process.GetCurrentProcess().WorkingSet64);
                    if (peakAtMillion == 0) peakAtMillion = p;
                    marks.Add(new { messages = n, seconds = Math.Round(sw.Elapsed.TotalSeconds, 1), peak_working_set_mb = Math.Round(p / 1048576.0, 1) });
                    Console.Error.WriteLine($"soak: {n:N0} messages in {sw.Elapsed.TotalSeconds:F0} s; peak working set {p / 1048576.0:F0} MB");
                    nextMark += 1_000_000;
                },
            };
            var result = await PipelineRuntime.RunAsync(defs, TestDefinitions.Connectors, options);
            long end = Math.Max(Interlocked.Read(ref peak), Process.GetCurrentProcess().WorkingSet64);
            if (result.Resolvers["get_users_stream"].Written != messages) throw new InvalidOperationException($"wrote {result.Resolvers["get_users_stream"].Written} of {messages}");
            var report = new
            {
                benchmark = "soak/replay_arrows_users_167B/sqlite+parquet",
                messages,
                msgs_per_s = Math.Round(messages / sw.Elapsed.TotalSeconds),
                peak_working_set_mb_at_1m = Math.Round(peakAtMillion / 1048576.0, 1),
                peak_working_set_mb_at_end = Math.Round(end / 1048576.0, 1),
                ratio = Math.Round(end / (double)Math.Max(1, peakAtMillion), 2),
                marks,
            };
            Console.WriteLine($"soak: {messages:N0} messages at {report.msgs_per_s:N0} msgs/s; peak working set {report.peak_working_set_mb_at_1m} MB at 1M, {report.peak_working_set_mb_at_end} MB at the end ({report.ratio}x)");
            Report.Write(jsonPath, report);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
