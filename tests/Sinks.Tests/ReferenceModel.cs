using System.Text;
using CsCheck;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Sinks.Tests;

/// <summary>
/// The property every online + dedup store pair must hold: for random streams with duplicates, redeliveries and
/// out-of-order feature times, run through the graph in small batches, the final online state equals a simple model.
/// </summary>
internal static class ReferenceModel
{
    private const string Yaml = """
        features:
          User:
            user_id: {type: int64, primary: true}
            full_name: string
        messages:
          M: {id: int64, name: string, uid: string}
        sources:
          users: {kind: recording, path: users.jsonl}
        resolvers:
          get_users_stream:
            source: users
            message_type: M
            output_features: {User.user_id: _.id, User.full_name: _.name}
            deduplication: {on: _.uid, within: 24h}
        """;

    private static int _round;

    public static async Task CheckAsync(Func<Task<IOnlineStore>> openOnline, Func<Task<IDedupStore>> openDedup, string dir, int iterations = 25)
    {
        // A message: entity 0..4, feature time 0..9, a dedup uid 0..11; some are redelivered (same position again).
        var gen = Gen.Select(Gen.Int[0, 4], Gen.Int[0, 9], Gen.Int[0, 11], Gen.Bool).List[1, 40];
        await Task.Run(() => gen.Sample(messages =>
        {
            int r = Interlocked.Increment(ref _round);
            var stream = new List<(long Offset, long Ts, int Entity, string Name, string Uid)>();
            long offset = 0;
            foreach (var (entity, ts, uid, again) in messages)
            {
                var m = (offset, (long)ts, entity, $"n{offset}", $"{r}-{uid}");
                stream.Add(m);
                if (again) stream.Add(m); // a redelivery: same position, same bytes
                offset++;
            }
            // The model: a uid's first position claims it; that position (again) goes on, others are duplicates.
            // A kept message replaces an entity's name when its feature time is not older.
            var claims = new Dictionary<string, long>();
            var model = new Dictionary<int, (long Ts, string Name)>();
            foreach (var (off, ts, entity, name, uid) in stream)
            {
                if (claims.TryGetValue(uid, out var held) && held != off) continue;
                claims[uid] = off;
                if (!model.TryGetValue(entity, out var cur) || ts >= cur.Ts) model[entity] = (ts, name);
            }

            // A class of its own per round, so that rounds never see each other's entities.
            var defs = DefinitionCompiler.CompileText(Yaml.Replace("  User:", $"  User{r}:", StringComparison.Ordinal).Replace("User.", $"User{r}.", StringComparison.Ordinal), "p.yaml", TestDefinitions.Connectors, out var errors)
                ?? throw new InvalidOperationException(string.Join("\n", errors));
            var online = openOnline().GetAwaiter().GetResult();
            var dedup = openDedup().GetAwaiter().GetResult();
            try
            {
                // Batches of 3 keep redeliveries and duplicates both inside a batch and across batches.
                var stores = EmbeddedStores.Over(dir, online, dedup);
                try { StreamGraph.RunAsync(defs.Resolvers, Batches(stream), stores.Options with { Tuning = new() { BatchSize = 3 } }).GetAwaiter().GetResult(); }
                finally { stores.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
                var cls = defs.Classes.Single();
                for (int e = 0; e <= 4; e++)
                {
                    var json = online.GetAsync(cls, e.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetAwaiter().GetResult();
                    if (!model.TryGetValue(e, out var expected)) { json.Should().BeNull($"entity {e} of round {r} was never kept"); continue; }
                    System.Text.Json.JsonDocument.Parse(json!).RootElement.GetProperty($"{cls.Namespace}.full_name").GetString()
                        .Should().Be(expected.Name, $"entity {e} of round {r}");
                }
            }
            finally
            {
                online.DisposeAsync().AsTask().GetAwaiter().GetResult();
                dedup.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }, iter: iterations, threads: 1));
    }

    private static async IAsyncEnumerable<MessageBatch> Batches(List<(long Offset, long Ts, int Entity, string Name, string Uid)> stream)
    {
        var b = new MessageBatch.Builder();
        foreach (var (offset, ts, entity, name, uid) in stream)
        {
            b.Append("users", 0, offset, ts, null, Encoding.UTF8.GetBytes($$"""{"id": {{entity}}, "name": "{{name}}", "uid": "{{uid}}"}"""));
            if (b.Length == 3)
            {
                yield return b.Build();
                b = new MessageBatch.Builder();
            }
        }
        if (b.Length > 0) yield return b.Build();
        await Task.CompletedTask;
    }
}
