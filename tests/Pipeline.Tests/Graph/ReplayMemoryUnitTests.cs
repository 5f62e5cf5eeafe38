using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Graph;

/// <summary>
/// A replay into the embedded stores keeps its memory flat: the live managed heap a 2,000,000-message replay peaks at is
/// no larger than a 1,000,000-message replay's, within slack. Memory is bounded by block capacities and the commit group, not by
/// the input. (Counts, not timings: it asserts no speed.)
/// </summary>
public sealed class ReplayMemoryUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-memory-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async IAsyncEnumerable<MessageBatch> Generate(int count)
    {
        var rng = new Random(7);
        var b = new MessageBatch.Builder();
        for (int i = 0; i < count; i++)
        {
            long id = rng.NextInt64(1, 10_000_000_000);
            b.Append("users", i % 4, i / 4, 1_700_000_000_000_000 + i * 1000L, null, Encoding.UTF8.GetBytes(
                $$"""{"id": {{id}}, "submitted": {{1_700_000_000_000_000 + i}}, "amount": {{i}}}"""), [new("X-Chalk-MessageType", "Transaction"u8.ToArray())]);
            if (b.Length == 4096) { yield return b.Build(); await Task.Yield(); }
        }
        if (b.Length > 0) yield return b.Build();
    }

    private async Task<(long PeakBytes, long Resolved)> Replay(int messages, string name)
    {
        // The seed's transactions resolver without deduplication: the dedup store holds one claim per key in its window,
        // which grows with distinct keys by design, not with the graph.
        var defs = DefinitionCompiler.CompileText("""
            features:
              Transaction: {id: {type: int64, primary: true}, amount: int64, submitted: timestamp}
            messages:
              TransactionMessage: {id: int64, submitted: int64, amount: int64}
            sources:
              user_updates: {kind: recording, path: users.arrows}
            resolvers:
              get_transactions_stream:
                source: user_updates
                message_type: TransactionMessage
                output_features:
                  Transaction.id: _.id
                  Transaction.amount: _.amount
                  Transaction.submitted: F.from_unix_seconds(_.submitted / 1_000_000)
            """, "memory.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
        // Memory is bounded by the block capacities, two online commit groups (one writing, one gathering), the open
        // offline file's pending row group and Parquet.Net's buffer pools (which warm up, see below). With 16,384-row
        // groups and 131,072-row files both runs reach that bound: what is compared is whether memory grows past it.
        var dir = Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;
        await using var stores = await EmbeddedStores.OpenAsync(dir, offlineFileRows: 131_072);
        var options = stores.Options with { Tuning = new() { CommitRows = 16_384 } };
        GC.Collect();
        long peak = 0;
        int calls = 0;
        // Live memory, not garbage awaiting a collection: every 8th fragment the heap is measured after a full collection.
        var result = await StreamGraph.RunAsync(defs.Resolvers, Generate(messages), options, (_, _) =>
        {
            if (++calls % 8 == 0) peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
        });
        var c = result.Resolvers["get_transactions_stream"];
        return (peak, c.Written);
    }

    [Fact]
    public async Task A_two_million_message_replay_peaks_no_higher_than_a_one_million_one()
    {
        // Parquet.Net's buffer pools warm up over the first ~million rows written in a process (measured: live heap
        // 25-34 MB after 250k messages, 63-77 MB after 1M, 82 MB after 2M), so the comparison starts past that.
        var small = await Replay(1_000_000, "small");
        var large = await Replay(2_000_000, "large");
        small.Resolved.Should().Be(1_000_000);
        large.Resolved.Should().Be(2_000_000);
        large.PeakBytes.Should().BeLessThan(small.PeakBytes * 5 / 4 + (16 << 20),
            $"memory must not grow with the input (1M peaked at {small.PeakBytes >> 20} MB, 2M at {large.PeakBytes >> 20} MB)");
    }
}
