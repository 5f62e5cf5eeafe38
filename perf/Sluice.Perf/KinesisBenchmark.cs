using System.Diagnostics;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Sources;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// kinesis: kinesalite (tools/kinesalite, a Kinesis-compatible server in node on loopback) -> the seed's users resolver ->
/// SQLite + Parquet through <see cref="KinesisRunner"/>, against a bare client reading every shard of the same stream in
/// the same run (GetRecords only: the ceiling the server allows). kinesalite, not Sluice, bounds both figures here.
/// </summary>
internal static class KinesisBenchmark
{
    private const int Shards = 4;

    public static async Task<int> RunAsync(int messages, string? jsonPath)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-kinesis-bench-").FullName;
        await using var node = await NodeServer.StartAsync("kinesalite");
        try
        {
            var endpoint = $"http://127.0.0.1:{node.Port}";
            using var client = new KinesisClient(new Uri(endpoint), "us-east-1", "k", "s");
            await client.CreateStreamAsync("users", Shards, CancellationToken.None);
            Console.Error.WriteLine($"kinesis: putting {messages:N0} messages into kinesalite ({Shards} shards)...");
            var payloads = UserMessages.Generate(messages);
            for (int i = 0; i < payloads.Length; i += 500)
                await client.PutRecordsAsync("users", payloads.Skip(i).Take(500).Select((p, k) => (p, $"k{i + k}")).ToList(), CancellationToken.None);

            Console.Error.WriteLine("kinesis: bare client...");
            var sw = Stopwatch.StartNew();
            long read = 0;
            foreach (var shard in await client.ListShardsAsync("users", CancellationToken.None))
            {
                var it = await client.GetShardIteratorAsync("users", shard.ShardId, "TRIM_HORIZON", null, CancellationToken.None);
                while (true)
                {
                    var (records, next, behind) = await client.GetRecordsAsync(it, 10_000, CancellationToken.None);
                    read += records.Count;
                    if (records.Count == 0 && behind == 0 || next is null) break;
                    it = next;
                }
            }
            double bare = read / sw.Elapsed.TotalSeconds;
            if (read != messages) throw new InvalidOperationException($"the bare client read {read} of {messages}");

            Console.Error.WriteLine("kinesis: users resolver into SQLite + Parquet...");
            var yaml = SeedUsers.Yaml($"{{kind: kinesis, stream_name: users, endpoint_url: \"{endpoint}\"}}");
            var defs = DefinitionCompiler.CompileText(yaml, "bench.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
            var options = TestRuns.In(dir) with { Dedup = "memory", IdleExit = TimeSpan.FromMilliseconds(500) };
            sw.Restart();
            var counts = await TestRuns.RunAsync(defs, options, TestDefinitions.Connectors.With(new KinesisSourceKind(new KinesisSourceOptions { Poll = TimeSpan.FromMilliseconds(20) })));
            double seconds = sw.Elapsed.TotalSeconds - 0.5; // less the idle wait that ends the run
            if (counts["get_users_stream"].Written != messages) throw new InvalidOperationException($"wrote {counts["get_users_stream"].Written} of {messages}");
            var report = new
            {
                benchmark = $"kinesis/kinesalite_users_{Math.Round(payloads.Average(p => p.Length))}B/sqlite+parquet",
                messages,
                msgs_per_s = Math.Round(messages / seconds),
                consume_only_msgs_per_s = Math.Round(bare),
                ratio = Math.Round(messages / seconds / bare, 3),
                shards = Shards,
                processors = Environment.ProcessorCount,
            };
            Console.WriteLine($"kinesis: {report.msgs_per_s:N0} msgs/s into SQLite + Parquet; bare client {report.consume_only_msgs_per_s:N0} msgs/s; ratio {report.ratio:F2}");
            Report.Write(jsonPath, report);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
