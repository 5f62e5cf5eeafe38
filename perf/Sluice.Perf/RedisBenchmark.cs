using System.Diagnostics;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Sinks;
using Sluice.Sources;
using Sluice.TestSupport;
using StackExchange.Redis;

namespace Sluice.Perf;

/// <summary>
/// redis: a generated .arrows recording of the seed's UserMessage replayed through the users resolver into Redis (no
/// offline store), without and with dedup (<c>on: _.id, within: 24h</c>), against the ceiling: plain pipelined HSETs of
/// the same rows (prepared beforehand) in the same run, on the same local redis-server.
/// </summary>
internal static class RedisBenchmark
{
    public static async Task<int> RunAsync(int messages, string? jsonPath)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-redis-bench-").FullName;
        await using var server = await RedisServerProcess.StartAsync(durable: false);
        try
        {
            var recording = Path.Combine(dir, "users.arrows");
            Console.Error.WriteLine($"redis: writing a {messages:N0}-message .arrows recording...");
            await RecordingFile.WriteAsync(recording, ReplayBenchmark.Generate(messages));
            string yaml = SeedUsers.Yaml("{kind: recording, path: users.arrows}", resolver: "skip_offline: true");
            var plain = Compile(yaml);
            var deduped = Compile(yaml + "\n    deduplication: {on: _.id, within: 24h}");
            await using var raw = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{server.Port},allowAdmin=true");

            // A long-running `sluice run` has compiled its graph, kernels and client paths long ago: each configuration
            // runs once on a short recording first, so that what is measured is that steady state, not the JIT.
            Console.Error.WriteLine("redis: warming up (200,000 messages through each configuration)...");
            var warmup = Path.Combine(dir, "warmup.arrows");
            await RecordingFile.WriteAsync(warmup, ReplayBenchmark.Generate(Math.Min(messages, 200_000)));
            await Replay(plain, warmup, server.Uri, dir, Math.Min(messages, 200_000));
            await Replay(deduped, warmup, server.Uri, dir, Math.Min(messages, 200_000));
            await raw.GetServer($"127.0.0.1:{server.Port}").FlushAllDatabasesAsync();

            Console.Error.WriteLine("redis: ceiling (pipelined HSETs of the same rows)...");
            var cpu = Cpu(server);
            double ceiling = await Ceiling(plain, recording, raw.GetDatabase());
            Console.Error.WriteLine($"  {cpu()}");
            await raw.GetServer($"127.0.0.1:{server.Port}").FlushAllDatabasesAsync();

            Console.Error.WriteLine("redis: users resolver, no dedup...");
            cpu = Cpu(server);
            double noDedup = await Replay(plain, recording, server.Uri, dir, messages);
            Console.Error.WriteLine($"  {cpu()}");
            await raw.GetServer($"127.0.0.1:{server.Port}").FlushAllDatabasesAsync();

            Console.Error.WriteLine("redis: users resolver, dedup on Redis...");
            cpu = Cpu(server);
            double withDedup = await Replay(deduped, recording, server.Uri, dir, messages);
            Console.Error.WriteLine($"  {cpu()}");
            await raw.GetServer($"127.0.0.1:{server.Port}").FlushAllDatabasesAsync();

            Console.Error.WriteLine("redis: users resolver, no dedup, keys expiring (key_ttl=true)...");
            cpu = Cpu(server);
            double keyTtl = await Replay(plain, recording, server.Uri + "?key_ttl=true", dir, messages);
            Console.Error.WriteLine($"  {cpu()}");

            var report = new
            {
                benchmark = "redis/arrows_users_167B",
                messages,
                msgs_per_s = Math.Round(noDedup),
                dedup_msgs_per_s = Math.Round(withDedup),
                redis_ceiling_msgs_per_s = Math.Round(ceiling),
                ratio = Math.Round(noDedup / ceiling, 3),
                dedup_ratio = Math.Round(withDedup / ceiling, 3),
                key_ttl_msgs_per_s = Math.Round(keyTtl),
                key_ttl_ratio = Math.Round(keyTtl / ceiling, 3),
                processors = Environment.ProcessorCount,
            };
            Console.WriteLine($"redis: {report.msgs_per_s:N0} msgs/s ({report.ratio:F2} of the ceiling), {report.dedup_msgs_per_s:N0} with dedup ({report.dedup_ratio:F2}), {report.key_ttl_msgs_per_s:N0} with key_ttl ({report.key_ttl_ratio:F2}); ceiling {report.redis_ceiling_msgs_per_s:N0} HSETs/s; {report.processors} cores");
            Report.Write(jsonPath, report);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Starts counting CPU; the returned function reports client and server CPU seconds since.</summary>
    private static Func<string> Cpu(RedisServerProcess server)
    {
        var client0 = Process.GetCurrentProcess().TotalProcessorTime;
        var server0 = server.CpuTime();
        return () => $"CPU: client {(Process.GetCurrentProcess().TotalProcessorTime - client0).TotalSeconds:F2} s, redis-server {(server.CpuTime() - server0).TotalSeconds:F2} s";
    }

    private static CompiledDefinitions Compile(string yaml) =>
        DefinitionCompiler.CompileText(yaml, "bench.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));

    private static async Task<double> Replay(CompiledDefinitions defs, string recording, string uri, string dir, int messages)
    {
        await using var online = await RedisOnlineStore.OpenAsync(uri);
        await using var dedup = await RedisDedupStore.OpenAsync(uri.Split('?')[0]);
        await using var stores = EmbeddedStores.Over(dir, online, dedup);
        var sw = Stopwatch.StartNew();
        var result = await StreamGraph.RunAsync(defs.Resolvers, RecordingFile.ReadAsync(recording), stores.Options);
        sw.Stop();
        // Random ids repeat now and then (~50 in 1M): with dedup those are duplicates, the rest written.
        var c = result.Resolvers["get_users_stream"];
        if (c.Written + c.Duplicate != messages) throw new InvalidOperationException($"wrote {c.Written} and dropped {c.Duplicate} duplicates of {messages}");
        return messages / sw.Elapsed.TotalSeconds;
    }

    /// <summary>HSETs per second of the resolver's rows (key and three feature values), prepared first, sent pipelined 4,096 at a time.</summary>
    private static async Task<double> Ceiling(CompiledDefinitions defs, string recording, IDatabase db)
    {
        var plan = defs.Resolvers.Single();
        var step = new ResolverStep(plan);
        var rows = new List<(RedisKey Key, HashEntry[] Fields)>();
        await foreach (var batch in RecordingFile.ReadAsync(recording))
        {
            var f = step.Process(batch, long.MaxValue).Features;
            var names = f.Schema.FieldsList.Select(x => x.Name).Where(n => n != "__ts__" && n != plan.Class.Primary.Fqn).ToArray();
            var types = names.Select(n => plan.Class.Features.First(x => x.Fqn == n).Type).ToArray();
            for (int r = 0; r < f.Length; r++)
                rows.Add(("sluice:user:" + FeatureJson.ToJson(f.Column(plan.Class.Primary.Fqn), r, plan.Class.Primary.Type),
                    names.Select((n, c) => new HashEntry(n, FeatureJson.ToJson(f.Column(n), r, types[c]))).ToArray()));
        }
        var sw = Stopwatch.StartNew();
        for (int start = 0; start < rows.Count; start += 4096)
            await Task.WhenAll(rows.Skip(start).Take(4096).Select(x => db.HashSetAsync(x.Key, x.Fields)));
        sw.Stop();
        return rows.Count / sw.Elapsed.TotalSeconds;
    }
}
