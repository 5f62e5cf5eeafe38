using System.Diagnostics;
using Confluent.Kafka;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// kafka: librdkafka's mock broker -> the seed's users resolver -> SQLite + Parquet, through <see cref="KafkaRunner"/> as
/// <c>sluice run</c> does it, against a bare Confluent consumer reading the same topic in the same run (the ceiling).
/// Both are timed from subscribing until the last message is read; the resolver's time also covers draining the graph,
/// so that every row is durable and every offset committed.
/// </summary>
internal static class KafkaBenchmark
{
    private const int Partitions = 64; // the mock keeps ~5 MB per partition: 1M messages of ~180 B need > 36

    public static async Task<int> RunAsync(int messages, string? jsonPath)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-kafka-bench-").FullName;
        try
        {
            using var cluster = new KafkaMockCluster();
            cluster.CreateTopic("users", Partitions);
            Console.Error.WriteLine($"kafka: producing {messages:N0} messages to the mock broker ({Partitions} partitions)...");
            Produce(cluster.BootstrapServers, messages);

            // The bare consumer reads the topic before and after the resolver (as groups of its own); the ratio is taken
            // against the mean of the two. One bare read varied from 380k to 750k msgs/s between runs on this machine,
            // so a single one moved the ratio more than anything measured; two that bracket the resolver's reads follow
            // the machine's drift during the run. The first also pays for compiling Confluent.Kafka's consume path: the
            // second read is typically 5-10% faster (both are in the JSON).
            Console.Error.WriteLine("kafka: bare consumer...");
            var (bareBefore, bareBeforeCpu) = BareConsumer(cluster.BootstrapServers, messages, "bare-before");

            // The resolver reads the topic twice, as two consumer groups, into fresh stores: the first pays for compiling
            // the graph, stores and kernels; the second runs as a long-lived `sluice run` does.
            var (cold, _) = await Resolve(cluster.BootstrapServers, Path.Combine(dir, "cold"), messages);
            var (resolver, resolverCpu) = await Resolve(cluster.BootstrapServers, Path.Combine(dir, "warm"), messages);
            Console.Error.WriteLine("kafka: bare consumer again...");
            var (bareAfter, bareAfterCpu) = BareConsumer(cluster.BootstrapServers, messages, "bare-after");
            double bare = (bareBefore + bareAfter) / 2;

            var report = new
            {
                benchmark = "kafka/mock_users_167B/sqlite+parquet",
                messages,
                msgs_per_s = Math.Round(resolver),
                consume_only_msgs_per_s = Math.Round(bare),
                consume_only_runs_msgs_per_s = new[] { Math.Round(bareBefore), Math.Round(bareAfter) },
                ratio = Math.Round(resolver / bare, 3),
                cold_msgs_per_s = Math.Round(cold),
                // Process CPU seconds of the warm read and of each bare read: steadier than wall time on a shared machine,
                // so a change in CPU shows here when the rates move with the machine.
                cpu_s = Math.Round(resolverCpu, 2),
                consume_only_cpu_s = new[] { Math.Round(bareBeforeCpu, 2), Math.Round(bareAfterCpu, 2) },
                partitions = Partitions,
                processors = Environment.ProcessorCount,
            };
            Console.WriteLine($"kafka: {report.msgs_per_s:N0} msgs/s into SQLite + Parquet ({report.cold_msgs_per_s:N0} on the first, cold read); bare consumer {report.consume_only_msgs_per_s:N0} msgs/s (mean of {bareBefore:N0} before and {bareAfter:N0} after); ratio {report.ratio:F2}; CPU {resolverCpu:F2} s against {bareBeforeCpu:F2} / {bareAfterCpu:F2} s; {report.processors} cores");
            Report.Write(jsonPath, report);
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The users resolver reading the whole topic as its own consumer group into stores under <paramref name="dir"/>: messages per second and process CPU seconds.</summary>
    private static async Task<(double MsgsPerS, double CpuS)> Resolve(string bootstrap, string dir, int messages)
    {
        Console.Error.WriteLine($"kafka: users resolver into SQLite + Parquet ({Path.GetFileName(dir)})...");
        var yaml = SeedUsers.Yaml($"{{kind: kafka, bootstrap_servers: \"{bootstrap}\", topic: users, group_id_prefix: \"bench-{Path.GetFileName(dir)}/\"}}");
        var defs = DefinitionCompiler.CompileText(yaml, "bench.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
        var options = TestRuns.In(dir) with { Dedup = "memory", MaxMessages = messages };
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var counts = await TestRuns.RunAsync(defs, options);
        sw.Stop();
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        Console.Error.WriteLine($"  {messages / sw.Elapsed.TotalSeconds:N0} msgs/s; CPU {cpu:F2} s in {sw.Elapsed.TotalSeconds:F2} s");
        if (counts["get_users_stream"].Written != messages) throw new InvalidOperationException($"wrote {counts["get_users_stream"].Written} of {messages}");
        return (messages / sw.Elapsed.TotalSeconds, cpu);
    }

    private static void Produce(string bootstrap, int count)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 20, BatchSize = 1_000_000 }).Build();
        const int chunk = 100_000;
        for (int start = 0; start < count; start += chunk)
        {
            var payloads = UserMessages.Generate(Math.Min(chunk, count - start), seed: start);
            for (int i = 0; i < payloads.Length; i++)
                while (true)
                {
                    try
                    {
                        producer.Produce(new TopicPartition("users", (start + i) % Partitions), new Message<byte[]?, byte[]?> { Value = payloads[i] });
                        break;
                    }
                    catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(5));
                    }
                }
        }
        if (producer.Flush(TimeSpan.FromMinutes(2)) != 0) throw new TimeoutException("producing to the mock broker did not finish");
    }

    /// <summary>Messages per second a bare consumer reads the topic at (subscribe, consume every message, nothing else), and the process CPU seconds it took.</summary>
    private static (double MsgsPerS, double CpuS) BareConsumer(string bootstrap, int count, string group)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }.WithPrefetch()).Build(); // the prefetch KafkaSource reads with, so that the two read alike
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        consumer.Subscribe("users");
        long read = 0, bytes = 0;
        while (read < count)
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false, Message: { } m })
            {
                read++;
                bytes += m.Value?.Length ?? 0;
            }
        sw.Stop();
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        consumer.Close();
        return (read / sw.Elapsed.TotalSeconds, cpu);
    }
}
