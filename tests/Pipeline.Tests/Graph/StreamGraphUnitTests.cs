using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Graph;

/// <summary>The whole graph on the embedded stores in a temp folder (SQLite and Parquet need no server).</summary>
public sealed class StreamGraphUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-graph-").FullName;
    private const long T0 = 1_700_000_000_000_000;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CompiledDefinitions Seed() =>
        DefinitionCompiler.CompileFile(Path.Combine(AppContext.BaseDirectory, "Definitions", "seed.yaml"), TestDefinitions.Connectors, out var errors)
        ?? throw new InvalidOperationException(string.Join("\n", errors));

    private static IReadOnlyList<ResolverPlan> Transactions() => Seed().Resolvers.Where(r => r.Name == "get_transactions_stream").ToList();

    /// <summary>The embedded stores under the test's folder; the graph cuts batches of 3.</summary>
    private async Task<(EmbeddedStores Stores, GraphOptions Options)> Open(string? offline = "offline")
    {
        var stores = await EmbeddedStores.OpenAsync(_dir, offline);
        return (stores, stores.Options with { Tuning = new() { BatchSize = 3 } });
    }

    private static async IAsyncEnumerable<MessageBatch> Messages(int count, Func<int, string> payload, int partitions = 1)
    {
        var b = new MessageBatch.Builder();
        for (int i = 0; i < count; i++)
            b.Append("users", i % partitions, i / partitions, T0 + i, null, Encoding.UTF8.GetBytes(payload(i)), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
        // One fragment of everything: the batcher cuts it into batches of BatchSize.
        yield return b.Build();
        await Task.CompletedTask;
    }

    private static string Transaction(int id) => $$"""{"id": {{id}}, "submitted": 1700000000000000, "amount": {{id * 100}}}""";

    [Fact]
    public async Task Every_message_is_counted_once_failures_are_dead_lettered_and_every_position_is_committed()
    {
        var (stores, options) = await Open();
        GraphResult result;
        await using (stores) result = await StreamGraph.RunAsync(Transactions(), Messages(20, i => i == 7 ? "{not json" : Transaction(i), partitions: 2), options);

        result.Messages.Should().Be(20);
        var c = result.Resolvers["get_transactions_stream"];
        (c.Written, c.ParseFailed, c.Total).Should().Be((19L, 1L, 20L));
        result.Committed[("users", 0)].Should().Be(10);
        result.Committed[("users", 1)].Should().Be(10);
        var dead = await File.ReadAllLinesAsync(Path.Combine(_dir, "dead.jsonl"));
        dead.Should().ContainSingle().Which.Should().Contain("users/1/3").And.Contain("sluice-error").And.Contain("{not json");
        Directory.GetFiles(Path.Combine(_dir, "offline", "transaction"), "*.parquet", SearchOption.AllDirectories).Should().NotBeEmpty();
        result.Blocks.Select(b => b.Name).Should().Contain(["get_transactions_stream/resolve", "dedup", "fan-out", "online", "offline", "dead-letter", "ack"]);
        result.Blocks.Single(b => b.Name == "online").RowsIn.Should().Be(19);

        await using var online = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        (await online.GetAsync(Seed().Classes.Single(x => x.Name == "Transaction"), "19")).Should().Contain("\"transaction.amount\": 1900");
    }

    [Fact]
    public async Task A_failing_store_faults_the_graph_naming_the_block_and_the_messages()
    {
        var (stores, options) = await Open(offline: "blocked");
        File.WriteAllText(Path.Combine(_dir, "blocked", "transaction"), "a file where the class's offline folder should be");
        await using var _ = stores;
        var act = () => StreamGraph.RunAsync(Transactions(), Messages(10, Transaction), options);
        var e = (await act.Should().ThrowAsync<GraphFaultException>()).Which;
        e.Block.Should().Be("offline");
        e.Positions.Should().StartWith("users/0/");
    }

    [Fact]
    public async Task A_flush_returns_once_everything_handed_before_it_is_durable_and_its_positions_reported()
    {
        var committed = new List<(int Partition, long Next)>();
        var flushed = new TaskCompletionSource();
        (int, long)[]? atFlush = null;
        var online = Path.Combine(_dir, "online.db");
        async IAsyncEnumerable<SourceEvent> Live()
        {
            var b = new MessageBatch.Builder();
            for (int i = 0; i < 5; i++)
                b.Append("users", 0, i, T0 + i, null, Encoding.UTF8.GetBytes(Transaction(i)), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
            // 5 messages: one full batch of 3 and 2 waiting in the batcher, with the offline file still open (age 1 min).
            yield return SourceEvent.Of(b.Build());
            yield return SourceEvent.Flush(flushed);
            await flushed.Task;
            lock (committed) atFlush = committed.ToArray();
            await using (var store = await SqliteOnlineStore.OpenAsync(online))
                (await store.GetAsync(Seed().Classes.Single(x => x.Name == "Transaction"), "4")).Should().Contain("\"transaction.amount\": 400");
            Directory.GetFiles(Path.Combine(_dir, "offline", "transaction"), "*.parquet", SearchOption.AllDirectories).Should().NotBeEmpty();
            var more = new MessageBatch.Builder();
            more.Append("users", 0, 5, T0 + 5, null, Encoding.UTF8.GetBytes(Transaction(5)), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
            yield return SourceEvent.Of(more.Build());
        }

        var (stores, options) = await Open();
        GraphResult result;
        await using (stores)
            result = await StreamGraph.RunAsync(Transactions(), Live(), options with { Committed = (_, p, next) => { lock (committed) committed.Add((p, next)); } });

        atFlush.Should().NotBeNull();
        atFlush!.Max(x => x.Item2).Should().Be(5, "offsets 0..4 were handed before the flush");
        committed.Max(x => x.Next).Should().Be(6);
        result.Resolvers["get_transactions_stream"].Written.Should().Be(6);
    }

    [Fact]
    public async Task Progress_shows_rows_written_as_they_reach_the_online_store_while_the_source_is_quiet()
    {
        var seen = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var quiet = new TaskCompletionSource();
        async IAsyncEnumerable<SourceEvent> Live()
        {
            var b = new MessageBatch.Builder();
            for (int i = 0; i < 6; i++)
                b.Append("users", 0, i, T0 + i, null, Encoding.UTF8.GetBytes(Transaction(i)), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
            yield return SourceEvent.Of(b.Build());
            // Nothing more arrives: the offline file stays open (age 1 min), so nothing is durable everywhere yet, but the
            // online store commits within the commit interval and the progress ticks say so.
            await quiet.Task;
        }

        var (stores, options) = await Open();
        options = options with { Tuning = options.Tuning with { CommitInterval = TimeSpan.FromMilliseconds(100) } };
        GraphResult result;
        await using (stores)
        {
            var run = StreamGraph.RunAsync(Transactions(), Live(), options, (messages, counts) =>
            {
                if (counts["get_transactions_stream"].Written == 6) seen.TrySetResult(messages);
            });
            (await seen.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().Be(6, "the 6 rows show as written before the source ends");
            quiet.SetResult();
            result = await run;
        }
        result.Resolvers["get_transactions_stream"].Written.Should().Be(6);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task With_a_clock_late_arrival_is_measured_against_it_before_parsing()
    {
        // user_updates has late_arrival_deadline 1h. The clock reads T0 + 2h: a message stamped T0 is late, one stamped a
        // minute before the clock is not; the late one is never parsed (its payload is not even JSON).
        const long hour = 3_600_000_000;
        async IAsyncEnumerable<MessageBatch> Two()
        {
            var b = new MessageBatch.Builder();
            b.Append("users", 0, 0, T0, null, "not json at all"u8.ToArray(), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
            b.Append("users", 0, 1, T0 + 2 * hour - 60_000_000, null, Encoding.UTF8.GetBytes(Transaction(1)), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
            yield return b.Build();
            await Task.CompletedTask;
        }
        var clock = new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds((T0 + 2 * hour) / 1000));

        var (stores, options) = await Open();
        await using var _ = stores;
        var live = (await StreamGraph.RunAsync(Transactions(), Two(), options with { Clock = clock })).Resolvers["get_transactions_stream"];
        (live.Late, live.Written, live.ParseFailed).Should().Be((1L, 1L, 0L));
    }
}
