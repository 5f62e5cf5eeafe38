using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.Kafka;

/// <summary>
/// The Kafka resolvers end to end against librdkafka's mock cluster (a real Kafka-protocol broker on loopback) through
/// the real Confluent client: routing, both sink formats, dead letters, commits, partitions and a rebalance.
/// </summary>
public sealed class KafkaRunIntegrationTests : IDisposable
{
    private readonly KafkaTestKit _kafka = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-kafka-").FullName;

    public void Dispose()
    {
        _kafka.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private CompiledDefinitions Definitions(string topic = "users") =>
        DefinitionCompiler.CompileText(KafkaTestKit.Definitions(_kafka.Bootstrap, topic), "kafka.yaml", TestDefinitions.Connectors, out var errors)
        ?? throw new InvalidOperationException(string.Join("\n", errors));

    /// <summary>Runs the resolvers (all by default) until their sources were idle <paramref name="idleSeconds"/>.</summary>
    private Task<IReadOnlyDictionary<string, OutcomeCounts>> Run(double idleSeconds = 2, Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null,
        params string[] resolvers) =>
        TestRuns.RunAsync(Definitions(), TestRuns.In(_dir, resolvers) with { IdleExit = TimeSpan.FromSeconds(idleSeconds), Progress = progress });

    private async Task<string?> Online(string cls, long key)
    {
        await using var store = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        return await store.GetAsync(Definitions().Classes.Single(c => c.Name == cls), key.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Header_routing_both_sink_formats_dead_letters_and_commits_on_one_topic()
    {
        _kafka.Cluster.CreateTopic("users", 2);
        foreach (var t in new[] { "users-dlq", "users-json", "users-ipc" }) _kafka.Cluster.CreateTopic(t, 1);
        var messages = new List<(int, string?, byte[], (string, string)[])>();
        for (int i = 0; i < 100; i++) messages.Add((i % 2, $"u{i}", KafkaTestKit.User(i), [("X-Chalk-MessageType", "User")]));
        for (int i = 0; i < 50; i++) messages.Add((i % 2, $"t{i}", KafkaTestKit.Transaction(1000 + i), [("X-Chalk-MessageType", "Transaction")]));
        for (int i = 0; i < 5; i++) messages.Add((1, $"bad{i}", Encoding.UTF8.GetBytes("{not json " + i), [("X-Chalk-MessageType", "User"), ("trace", $"t-{i}")]));
        for (int i = 0; i < 3; i++) messages.Add((0, null, KafkaTestKit.User(5000 + i), []));
        _kafka.Produce("users", messages);

        var counts = await Run();

        counts["get_users_stream"].Should().Be(new OutcomeCounts(Written: 100, Filtered: 53, Late: 0, Skipped: 0, Duplicate: 0, ParseFailed: 5, Failed: 0));
        counts["get_transactions_stream"].Should().Be(new OutcomeCounts(Written: 50, Filtered: 108, Late: 0, Skipped: 0, Duplicate: 0, ParseFailed: 0, Failed: 0));
        (await Online("User", 42)).Should().Contain("\"user.email_address\": \"u42@example.com\"").And.Contain("\"user.updated_at\": \"2023-11-14T22:13:20Z\"");
        (await Online("Transaction", 1007)).Should().Contain("\"transaction.amount\": 10070");
        (await Online("User", 5000)).Should().BeNull("a message without the header is filtered");

        // Every message of both partitions is committed, in each resolver's own group.
        long[] ends = [messages.Count(m => m.Item1 == 0), messages.Count(m => m.Item1 == 1)];
        _kafka.Committed("sluice/get_users_stream", "users", 2).Should().Equal(ends);
        _kafka.Committed("sluice/get_transactions_stream", "users", 2).Should().Equal(ends);

        // Dead letters: the original key, payload and headers, plus where and why.
        var dead = _kafka.ReadAll("users-dlq", 5);
        dead.Should().HaveCount(5);
        foreach (var d in dead)
        {
            var h = d.Message.Headers.ToDictionary(x => x.Key, x => Encoding.UTF8.GetString(x.GetValueBytes()));
            Encoding.UTF8.GetString(d.Message.Value!).Should().StartWith("{not json ");
            Encoding.UTF8.GetString(d.Message.Key!).Should().StartWith("bad");
            h["X-Chalk-MessageType"].Should().Be("User");
            h["trace"].Should().StartWith("t-");
            h["sluice-resolver"].Should().Be("get_users_stream");
            h["sluice-source"].Should().MatchRegex(@"^users/1/\d+$");
            h["sluice-error"].Should().NotBeNullOrWhiteSpace();
        }

        // json sink: one message per row keyed by the primary key, an object keyed by FQN.
        var json = _kafka.ReadAll("users-json", 100);
        json.Should().HaveCount(100);
        var row = json.Single(m => Encoding.UTF8.GetString(m.Message.Key!) == "42");
        using (var doc = JsonDocument.Parse(row.Message.Value))
        {
            doc.RootElement.GetProperty("user.user_id").GetInt64().Should().Be(42);
            doc.RootElement.GetProperty("user.full_name").GetString().Should().Be("John Doe 42");
            doc.RootElement.GetProperty("user.updated_at").GetString().Should().Be("2023-11-14T22:13:20Z");
            doc.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal("user.user_id", "user.full_name", "user.updated_at");
        }

        // ipc_stream sink: one message per batch, an Arrow IPC stream with FQN columns.
        var ipc = _kafka.ReadAll("users-ipc", 1);
        var ids = new List<long>();
        foreach (var m in ipc)
        {
            using var reader = new ArrowStreamReader(new MemoryStream(m.Message.Value!));
            while (await reader.ReadNextRecordBatchAsync() is { } batch)
            {
                batch.Schema.FieldsList.Select(f => f.Name).Should().Equal("transaction.id", "transaction.amount");
                var id = (Int64Array)batch.Column(0);
                var amount = (Int64Array)batch.Column(1);
                for (int r = 0; r < batch.Length; r++)
                {
                    amount.GetValue(r).Should().Be(id.GetValue(r) * 10);
                    ids.Add(id.GetValue(r)!.Value);
                }
            }
        }
        ids.Should().BeEquivalentTo(Enumerable.Range(1000, 50).Select(i => (long)i));
    }

    [Fact]
    public async Task A_topic_with_eight_partitions_is_read_whole_and_committed_per_partition()
    {
        _kafka.Cluster.CreateTopic("users", 8);
        _kafka.Cluster.CreateTopic("users-json", 1);
        const int n = 20_000;
        _kafka.Produce("users", Enumerable.Range(0, n).Select(i => (i % 8, (string?)null, KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));

        var counts = await Run(resolvers: "get_users_stream");

        counts["get_users_stream"].Written.Should().Be(n);
        _kafka.Committed("sluice/get_users_stream", "users", 8).Should().Equal(Enumerable.Repeat((long)n / 8, 8));
        foreach (var id in new long[] { 0, 7, 8, 12_345, n - 1 })
            (await Online("User", id)).Should().NotBeNull($"user {id} was on partition {id % 8}");
    }

    [Fact]
    public async Task Two_consumers_of_one_group_rebalance_and_together_write_and_commit_everything()
    {
        _kafka.Cluster.CreateTopic("users", 4);
        _kafka.Cluster.CreateTopic("users-json", 1);
        const int half = 20_000;
        _kafka.Produce("users", Enumerable.Range(0, half).Select(i => (i % 4, (string?)null, KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));
        var firstStarted = new TaskCompletionSource();
        var first = Task.Run(() => Run(4, (messages, _) => { if (messages > 0) firstStarted.TrySetResult(); }, "get_users_stream"));
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // The second member joins while the first is mid-stream: the group rebalances, revoked partitions flush and commit.
        // The second half arrives in chunks until the second member has read some (its join completed), then the rest.
        var secondStarted = new TaskCompletionSource();
        var second = Task.Run(() => Run(4, (messages, _) => { if (messages > 0) secondStarted.TrySetResult(); }, "get_users_stream"));
        int next = half;
        for (; next < 2 * half && !secondStarted.Task.IsCompleted; next += 500)
        {
            _kafka.Produce("users", Enumerable.Range(next, 500).Select(i => (i % 4, (string?)null, KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));
            await Task.WhenAny(secondStarted.Task, Task.Delay(500));
        }
        _kafka.Produce("users", Enumerable.Range(next, 2 * half - next).Select(i => (i % 4, (string?)null, KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));

        var a = (await first)["get_users_stream"];
        var b = (await second)["get_users_stream"];

        a.Written.Should().BePositive();
        b.Written.Should().BePositive("the second member got partitions in the rebalance");
        (a.Written + b.Written).Should().BeGreaterThanOrEqualTo(2 * half, "at least once: a message may be read twice around a rebalance, never lost");
        _kafka.Committed("sluice/get_users_stream", "users", 4).Should().Equal(Enumerable.Repeat((long)2 * half / 4, 4));
        foreach (var id in new long[] { 0, 1, 2, 3, half - 1, half, 2 * half - 1 })
            (await Online("User", id)).Should().NotBeNull($"user {id} must be written");
    }
}
