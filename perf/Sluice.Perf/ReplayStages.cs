using System.Diagnostics;
using Sluice.Kernels.Parsing;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.Sinks;
using Sluice.Sources;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// replay-stages: where the replay benchmark's time goes, one stage at a time on one thread over the same recording
/// (read, parse, resolver step, Parquet, SQLite group commits). A diagnostic for the end-to-end figure, not a target.
/// </summary>
internal static class ReplayStages
{
    public static async Task<int> RunAsync(int messages, int commitBatches)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-stages-").FullName;
        try
        {
            var recording = Path.Combine(dir, "users.arrows");
            await RecordingFile.WriteAsync(recording, ReplayBenchmark.Generate(messages));
            var plan = (DefinitionCompiler.CompileText(ReplayBenchmark.Definitions, "bench.yaml", TestDefinitions.Connectors, out var errors)
                ?? throw new InvalidOperationException(string.Join("\n", errors))).Resolvers[0];
            var step = new ResolverStep(plan);
            var kernel = ParseKernel.For(plan.MessageType);
            List<MessageBatch> batches = [];
            List<ResolvedBatch> resolved = [];
            for (int rep = 0; rep < 2; rep++) // the first round warms the JIT up
            {
                Console.WriteLine(rep == 0 ? "warm-up:" : "measured:");
                batches = [];
                await Stage("read", messages, async () => { await foreach (var b in RecordingFile.ReadAsync(recording)) batches.Add(b); });
                await Stage("parse", messages, () => { foreach (var b in batches) kernel.Parse(b.Value); return Task.CompletedTask; });
                await Stage("step", messages, () => { resolved = batches.Select(b => step.Process(b, 0)).ToList(); return Task.CompletedTask; });
                await Stage("parquet", messages, async () =>
                {
                    await using var offline = new ParquetOfflineStore(Path.Combine(dir, $"offline{rep}"));
                    foreach (var b in resolved) await offline.WriteAsync(plan, b);
                });
                await using (var online = await SqliteOnlineStore.OpenAsync(Path.Combine(dir, $"online{rep}.db")))
                {
                    // Staging (key order, gathered columns) runs beside the writer in the graph; the write is the serial part.
                    IStagingOnlineStore staging = online;
                    List<object> staged = [];
                    await Stage("sqlite staging", messages, () => { staged = resolved.Select(b => staging.Stage(plan, b.Features)).ToList(); return Task.CompletedTask; });
                    await Stage($"sqlite write ({commitBatches * 4096:N0}-row commits)", messages, async () =>
                    {
                        for (int i = 0; i < staged.Count; i += commitBatches)
                            await staging.WriteStagedAsync(staged.Skip(i).Take(commitBatches).ToList(), CancellationToken.None);
                    });
                }
            }
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task Stage(string name, int messages, Func<Task> work)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        long allocated = GC.GetTotalAllocatedBytes();
        var sw = Stopwatch.StartNew();
        await work();
        sw.Stop();
        Console.WriteLine($"  {name,-32} {sw.Elapsed.TotalMilliseconds * 1000 / messages,6:F2} us/msg wall, " +
            $"{(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1000 / messages,6:F2} us/msg CPU, " +
            $"{(GC.GetTotalAllocatedBytes() - allocated) / (double)messages,5:F0} B/msg");
    }
}
