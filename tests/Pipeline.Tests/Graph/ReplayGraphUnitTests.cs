using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Stores;

namespace Sluice.Pipeline.Tests.Graph;

/// <summary>The whole graph on the embedded stores in a temp folder (SQLite and Parquet need no server).</summary>
public sealed class ReplayGraphUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-graph-").FullName;
    private const long T0 = 1_700_000_000_000_000;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CompiledDefinitions Seed() =>
        DefinitionCompiler.CompileFile(Path.Combine(AppContext.BaseDirectory, "Definitions", "seed.yaml"), out var errors)
        ?? throw new InvalidOperationException(string.Join("\n", errors));

    private ReplayOptions Options(string? offline = "offline") => new(Path.Combine(_dir, "online.db"), Path.Combine(_dir, "sinks"),
        Path.Combine(_dir, "dead.jsonl"), offline is null ? null : Path.Combine(_dir, offline), Resolvers: ["get_transactions_stream"]) { BatchSize = 3 };

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
        var result = await ReplayGraph.RunAsync(Seed(), Messages(20, i => i == 7 ? "{not json" : Transaction(i), partitions: 2), Options());

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
        File.WriteAllText(Path.Combine(_dir, "blocked"), "a file where the offline directory should be");
        var act = () => ReplayGraph.RunAsync(Seed(), Messages(10, Transaction), Options(offline: "blocked"));
        var e = (await act.Should().ThrowAsync<GraphFaultException>()).Which;
        e.Block.Should().Be("offline");
        e.Positions.Should().StartWith("users/0/");
    }
}
