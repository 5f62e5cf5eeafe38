using System.Text;
using FluentAssertions;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.Sinks.Tests.Dedup;
using Sluice.TestSupport;
using StackExchange.Redis;

namespace Sluice.Sinks.Tests.Redis;

/// <summary>
/// The Redis online and dedup stores on a real three-master Redis Cluster (three <c>redis-server --cluster-enabled</c>
/// processes on free loopback ports): entities spread over every master, scripts only touch keys local to the node they
/// run on, and a master that restarts mid-run is waited out with nothing lost. The tests share one cluster (it takes
/// seconds to form), emptied before each.
/// </summary>
public sealed class RedisClusterIntegrationTests(RedisClusterIntegrationTests.Fixture shared) : IClassFixture<RedisClusterIntegrationTests.Fixture>, IAsyncLifetime
{
    /// <summary>The cluster the tests of this class share.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public RedisCluster Cluster { get; private set; } = null!;
        public async Task InitializeAsync() => Cluster = await RedisCluster.StartAsync();
        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }

    private readonly RedisCluster _cluster = shared.Cluster;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-redis-cluster-").FullName;

    public async Task InitializeAsync()
    {
        await _cluster.WaitOkAsync();
        await _cluster.FlushAsync();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private static readonly CompiledDefinitions Defs = DefinitionCompiler.CompileText(
        SeedUsers.Yaml("{kind: recording, path: users.jsonl}", messageFields: ", uid: string?", resolver: "deduplication: {on: _.uid, within: 24h}"),
        "cluster.yaml", TestDefinitions.Connectors, out _)!;
    private static FeatureClassPlan User => Defs.Classes.Single();

    private static byte[] Payload(long id, string name, string uid) =>
        Encoding.UTF8.GetBytes($$"""{"id": {{id}}, "name": "{{name}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1", "email_address": "x@y.z"}, "uid": "{{uid}}"}""");

    private static async IAsyncEnumerable<MessageBatch> Batches(IEnumerable<(long Offset, long Ts, byte[] Payload)> messages, int batch, int delayMs = 0)
    {
        var b = new MessageBatch.Builder();
        foreach (var (offset, ts, payload) in messages)
        {
            b.Append("users", 0, offset, ts, null, payload);
            if (b.Length == batch)
            {
                yield return b.Build();
                b = new MessageBatch.Builder();
                if (delayMs > 0) await Task.Delay(delayMs);
            }
        }
        if (b.Length > 0) yield return b.Build();
    }

    private async Task<GraphResult> Run(IAsyncEnumerable<MessageBatch> batches, IOnlineStore online, IDedupStore dedup, Func<GraphOptions, GraphOptions>? tune = null)
    {
        await using var stores = EmbeddedStores.Over(_dir, online, dedup);
        return await StreamGraph.RunAsync(Defs.Resolvers, batches, tune is null ? stores.Options : tune(stores.Options));
    }

    /// <summary>The entity keys each master holds, as <c>SCAN</c> on that master sees them.</summary>
    private async Task<int[]> EntityKeysPerMaster()
    {
        var counts = new int[_cluster.Masters.Count];
        for (int i = 0; i < counts.Length; i++)
        {
            await using var node = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_cluster.Masters[i].Port}");
            counts[i] = node.GetServer($"127.0.0.1:{_cluster.Masters[i].Port}").Keys(pattern: "sluice:user:*").Count();
        }
        return counts;
    }

    [Fact]
    public async Task Entities_spread_over_every_master_and_read_back_with_duplicates_dropped()
    {
        await using var store = await RedisOnlineStore.OpenAsync(_cluster.Uri);
        await using var dedup = await RedisDedupStore.OpenAsync(_cluster.Uri);
        const int n = 2000;
        // Every tenth message repeats the dedup uid of the one before it from another position: a duplicate.
        var messages = Enumerable.Range(0, n).Select(i => ((long)i, (long)i, Payload(i, $"u{i}", uid: $"m{(i % 10 == 9 ? i - 1 : i)}")));
        var result = await Run(Batches(messages, batch: 500), store, dedup);

        result.Resolvers["get_users_stream"].Written.Should().Be(n - n / 10);
        result.Resolvers["get_users_stream"].Duplicate.Should().Be(n / 10);
        var perMaster = await EntityKeysPerMaster();
        perMaster.Sum().Should().Be(n - n / 10);
        perMaster.Should().OnlyContain(c => c > 0, "the cluster's slots spread the entities over every master");
        (await store.GetAsync(User, "8")).Should().Contain("\"u8\"");
        (await store.GetAsync(User, "9")).Should().BeNull("message 9 was a duplicate of message 8's uid");
        (await store.GetAsync(User, "1999")).Should().BeNull();
        (await store.GetAsync(User, "1998")).Should().Contain("\"u1998\"");
    }

    [Fact]
    public async Task Dedup_on_a_cluster_keeps_the_contract_of_every_dedup_store()
    {
        await using var dedup = await RedisDedupStore.OpenAsync(_cluster.Uri);
        await DedupContract.DuplicatesDropRedeliveriesPassAndClaimsExpireAfterTheWindow(dedup, "a");
        await DedupContract.AnOlderStragglerWithinTheWindowIsADuplicateAndAnOlderOneOutsideNeverTakesTheKey(dedup, "b");
    }

    [Fact]
    public async Task A_master_restarting_mid_run_is_waited_out_and_no_message_is_lost()
    {
        await using var store = await RedisOnlineStore.OpenAsync(_cluster.Uri);
        await using var dedup = await RedisDedupStore.OpenAsync(_cluster.Uri);
        const int n = 3000;
        var committed = 0L;
        // Nothing committed that was not written: when offset `next` is committed, the entity of message next - 1 (its id
        // is its offset) is already in Redis, read there and then through another connection.
        await using var reader = await RedisOnlineStore.OpenAsync(_cluster.Uri);
        var unwritten = new List<long>();
        void OnCommit(long next)
        {
            if (reader.GetAsync(User, (next - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).GetAwaiter().GetResult() is null)
                lock (unwritten) unwritten.Add(next);
            Interlocked.Exchange(ref committed, next);
        }
        var run = Run(Batches(Enumerable.Range(0, n).Select(i => ((long)i, (long)i, Payload(i, $"u{i}", uid: $"m{i}"))), batch: 100, delayMs: 20), store, dedup,
            o => o with { Tuning = o.Tuning with { CommitInterval = TimeSpan.FromMilliseconds(50) }, Committed = (_, _, next) => OnCommit(next) });
        for (var deadline = DateTime.UtcNow.AddMinutes(1); Interlocked.Read(ref committed) == 0 && DateTime.UtcNow < deadline;) await Task.Delay(10);
        Interlocked.Read(ref committed).Should().BeInRange(1, n - 1, "the restart comes mid-run");
        await _cluster.RestartAsync(1, TimeSpan.FromSeconds(1));
        var result = await run;

        result.Resolvers["get_users_stream"].Written.Should().Be(n);
        Interlocked.Read(ref committed).Should().Be(n);
        unwritten.Should().BeEmpty("an offset is committed only once its message's entity is written");
        (await EntityKeysPerMaster()).Sum().Should().Be(n, "every message's entity is in the cluster after the restart");
        for (int i = 0; i < n; i += 97) (await store.GetAsync(User, i.ToString(System.Globalization.CultureInfo.InvariantCulture))).Should().Contain($"\"u{i}\"");
    }

    [Fact]
    public Task For_random_streams_the_online_state_on_a_cluster_matches_the_reference_model() =>
        ReferenceModel.CheckAsync(async () => await RedisOnlineStore.OpenAsync(_cluster.Uri), async () => await RedisDedupStore.OpenAsync(_cluster.Uri), _dir);

    [Fact]
    public async Task The_connection_knows_it_is_on_a_cluster_and_groups_keys_by_the_master_that_holds_them()
    {
        await using var redis = await RedisConnection.ConnectAsync(_cluster.Uri);
        redis.IsCluster.Should().BeTrue();
        redis.Display.Should().Be(_cluster.Uri);
        RedisKey[] keys = Enumerable.Range(0, 300).Select(i => (RedisKey)$"sluice:user:{i}").ToArray();
        var groups = redis.ByNode(keys).ToList();
        groups.Should().HaveCount(3);
        groups.SelectMany(g => g).Order().Should().Equal(Enumerable.Range(0, 300));
        foreach (var g in groups) g.Select(i => redis.Multiplexer.GetServer(keys[i]).EndPoint).Distinct().Should().ContainSingle();
    }
}
