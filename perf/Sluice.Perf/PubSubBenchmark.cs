using System.Diagnostics;
using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Sluice.Pipeline.Compilation;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// pubsub: the tests' loopback Pub/Sub server (in this process) -> the seed's users resolver -> SQLite + Parquet through
/// <see cref="PubSubRunner"/>, against a bare StreamingPull client that acknowledges each response as it arrives, on a
/// second subscription of the same topic in the same run. The server shares the 2 cores with both.
/// </summary>
internal static class PubSubBenchmark
{
    public static async Task<int> RunAsync(int messages, string? jsonPath)
    {
        var dir = Directory.CreateTempSubdirectory("sluice-pubsub-bench-").FullName;
        await using var server = await LoopbackPubSub.StartAsync();
        Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", server.Host);
        try
        {
            server.Data.CreateSubscription("projects/p/subscriptions/bare", "projects/p/topics/users");
            server.Data.CreateSubscription("projects/p/subscriptions/users", "projects/p/topics/users");
            Console.Error.WriteLine($"pubsub: publishing {messages:N0} messages to the loopback server...");
            var payloads = UserMessages.Generate(messages);
            server.Data.Publish("projects/p/topics/users", payloads.Select(p => new PubsubMessage { Data = ByteString.CopyFrom(p) }));

            Console.Error.WriteLine("pubsub: bare StreamingPull client...");
            var sw = Stopwatch.StartNew();
            long read = await BareAsync(server.Host, messages);
            double bare = read / sw.Elapsed.TotalSeconds;

            Console.Error.WriteLine("pubsub: users resolver into SQLite + Parquet...");
            var yaml = SeedUsers.Yaml("{kind: pubsub, project_id: p, subscription_id: users}");
            var defs = DefinitionCompiler.CompileText(yaml, "bench.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
            var options = TestRuns.In(dir) with { Dedup = "memory", IdleExit = TimeSpan.FromMilliseconds(500) };
            sw.Restart();
            var counts = await TestRuns.RunAsync(defs, options);
            double seconds = sw.Elapsed.TotalSeconds - 0.5; // less the idle wait that ends the run
            if (counts["get_users_stream"].Written != messages) throw new InvalidOperationException($"wrote {counts["get_users_stream"].Written} of {messages}");
            var report = new
            {
                benchmark = $"pubsub/loopback_users_{Math.Round(payloads.Average(p => p.Length))}B/sqlite+parquet",
                messages,
                msgs_per_s = Math.Round(messages / seconds),
                consume_only_msgs_per_s = Math.Round(bare),
                ratio = Math.Round(messages / seconds / bare, 3),
                processors = Environment.ProcessorCount,
            };
            Console.WriteLine($"pubsub: {report.msgs_per_s:N0} msgs/s into SQLite + Parquet; bare StreamingPull client {report.consume_only_msgs_per_s:N0} msgs/s; ratio {report.ratio:F2}");
            Report.Write(jsonPath, report);
            return 0;
        }
        finally
        {
            Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", null);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<long> BareAsync(string host, int messages)
    {
        using var channel = GrpcChannel.ForAddress($"http://{host}");
        using var call = new Subscriber.SubscriberClient(channel).StreamingPull();
        await call.RequestStream.WriteAsync(new StreamingPullRequest { Subscription = "projects/p/subscriptions/bare", StreamAckDeadlineSeconds = 60, MaxOutstandingMessages = 10_000 });
        long read = 0;
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            read += response.ReceivedMessages.Count;
            var ack = new StreamingPullRequest();
            ack.AckIds.AddRange(response.ReceivedMessages.Select(m => m.AckId));
            await call.RequestStream.WriteAsync(ack);
            if (read >= messages) break;
        }
        await call.RequestStream.CompleteAsync();
        return read;
    }
}
