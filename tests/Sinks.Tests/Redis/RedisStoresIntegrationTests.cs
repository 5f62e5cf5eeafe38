using System.Text;
using CsCheck;
using FluentAssertions;
using Sluice.Sinks.Tests.Dedup;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;
using StackExchange.Redis;

namespace Sluice.Sinks.Tests.Redis;

/// <summary>The Redis online and dedup stores against a real redis-server started on a free loopback port.</summary>
public sealed class RedisStoresIntegrationTests : IAsyncLifetime
{
    private RedisServerProcess _redis = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-redis-graph-").FullName;

    public async Task InitializeAsync() => _redis = await RedisServerProcess.StartAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static readonly string Yaml = SeedUsers.Yaml("{kind: recording, path: users.jsonl}", messageFields: ", uid: string?",
        resolver: "deduplication: {on: _.uid, within: 24h}");

    private static readonly CompiledDefinitions Defs = DefinitionCompiler.CompileText(Yaml, "redis.yaml", TestDefinitions.Connectors, out _)!;
    private static FeatureClassPlan User => Defs.Classes.Single();

    private static byte[] Payload(long id, string name, string? uid = null, string? email = "x@y.z") =>
        Encoding.UTF8.GetBytes($$$"""{"id": {{{id}}}, "name": "{{{name}}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1", "email_address": {{{(email is null ? "null" : $"\"{email}\"")}}}}, "uid": {{{(uid is null ? "null" : $"\"{uid}\"")}}}}""");

    /// <summary>Runs the users resolver over <paramref name="batches"/> into <paramref name="online"/> and <paramref name="dedup"/>.</summary>
    private async Task<GraphResult> Run(IAsyncEnumerable<MessageBatch> batches, IOnlineStore online, IDedupStore dedup, Func<GraphOptions, GraphOptions>? tune = null)
    {
        await using var stores = EmbeddedStores.Over(_dir, online, dedup);
        return await StreamGraph.RunAsync(Defs.Resolvers, batches, tune is null ? stores.Options : tune(stores.Options));
    }

    private static async IAsyncEnumerable<MessageBatch> Batches(IEnumerable<(long Offset, long Ts, byte[] Payload)> messages, int batch = 64, int delayMs = 0)
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

    [Fact]
    public async Task An_entity_is_one_hash_whose_features_keep_the_latest_feature_time_and_expire()
    {
        await using var store = await RedisOnlineStore.OpenAsync(_redis.Uri);
        await using var dedup = await RedisDedupStore.OpenAsync(_redis.Uri);
        await Run(Batches([(0, 2_000_000, Payload(123, "newer")), (1, 1_000_000, Payload(123, "older", email: null)), (2, 1_000_000, Payload(7, "seven"))]), store, dedup);

        var json = await store.GetAsync(User, "123");
        json.Should().NotBeNull();
        using (var doc = System.Text.Json.JsonDocument.Parse(json!))
        {
            doc.RootElement.GetProperty("user.user_id").GetInt64().Should().Be(123);
            doc.RootElement.GetProperty("user.full_name").GetString().Should().Be("newer", "an older message never overwrites a newer value");
            doc.RootElement.GetProperty("user.email_address").GetString().Should().Be("x@y.z");
            doc.RootElement.GetProperty("user.updated_at").GetString().Should().Be("2023-11-14T22:13:20Z");
        }
        (await store.GetAsync(User, "999")).Should().BeNull();

        // The documented layout, as redis-cli sees it.
        await using var raw = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redis.Port}");
        var db = raw.GetDatabase();
        var hash = (await db.HashGetAllAsync("sluice:user:123")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        var name = hash["user.full_name"].Split(' ', 3);
        name[0].Should().Be("2000000", "the feature time");
        long.Parse(name[1], System.Globalization.CultureInfo.InvariantCulture).Should()
            .BeCloseTo(DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds(), 60, "the expiry in seconds, max_staleness after the write");
        name[2].Should().Be("\"newer\"", "the value as JSON");
        hash.Keys.Should().BeEquivalentTo(["user.full_name", "user.email_address", "user.updated_at"], "one field a feature, the primary key in the key");
        (await db.KeyTimeToLiveAsync("sluice:user:123")).Should().BeNull("keys expire only with key_ttl=true; max_staleness hides values on read");
    }

    [Fact]
    public async Task With_key_ttl_an_entity_key_expires_max_staleness_after_its_last_write()
    {
        await using var store = await RedisOnlineStore.OpenAsync(_redis.Uri + "?key_ttl=true");
        await using var dedup = await RedisDedupStore.OpenAsync(_redis.Uri);
        store.Display.Should().EndWith("?key_ttl=true");
        await Run(Batches([(0, 2_000_000, Payload(123, "newer"))]), store, dedup);
        await using var raw = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redis.Port}");
        (await raw.GetDatabase().KeyTimeToLiveAsync("sluice:user:123")).Should().BeCloseTo(TimeSpan.FromDays(30), TimeSpan.FromMinutes(1));
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Values_read_as_expired_after_max_staleness()
    {
        var clock = new Clock(DateTimeOffset.UtcNow);
        await using var store = await RedisOnlineStore.OpenAsync(_redis.Uri, clock);
        var step = new ResolverStep(Defs.Resolvers.Single());
        var b = new MessageBatch.Builder();
        b.Append("users", 0, 0, 1_000_000, null, Payload(5, "five"));
        await store.WriteAsync([(Defs.Resolvers.Single(), step.Process(b.Build(), 1_000_000).Features)]);
        (await store.GetAsync(User, "5")).Should().Contain("five");
        clock.Now = clock.Now.AddDays(31);
        (await store.GetAsync(User, "5")).Should().BeNull();
    }

    [Fact]
    public async Task Dedup_claims_keep_new_keys_and_redeliveries_and_drop_duplicates_within_a_batch_too()
    {
        await using var dedup = await RedisDedupStore.OpenAsync(_redis.Uri);
        const long day = 86_400_000_000;
        var keep = await dedup.ClaimAsync([
            new("r\u001fa", "t/0/1", 0, day), new("r\u001fb", "t/0/2", 0, day), new("r\u001fa", "t/0/3", 0, day), new("r\u001fa", "t/0/1", 0, day)]);
        keep.Should().Equal(true, true, false, true);
        (await dedup.ClaimAsync([new("r\u001fa", "t/0/1", 0, day), new("r\u001fb", "t/9/9", 0, day), new("other\u001fa", "t/0/5", 0, day)]))
            .Should().Equal(true, false, true);
    }

    [Fact]
    public async Task Dedup_windows_are_measured_in_message_time_as_every_dedup_store_measures_them()
    {
        await using var dedup = await RedisDedupStore.OpenAsync(_redis.Uri);
        await DedupContract.DuplicatesDropRedeliveriesPassAndClaimsExpireAfterTheWindow(dedup, "a");
        await DedupContract.AnOlderStragglerWithinTheWindowIsADuplicateAndAnOlderOneOutsideNeverTakesTheKey(dedup, "b");
    }

    [Fact]
    public async Task A_password_protected_server_is_reached_and_the_password_never_shows()
    {
        await using var secured = await RedisServerProcess.StartAsync(password: "s3cr3t-pw");
        await using (var store = await RedisOnlineStore.OpenAsync(secured.Uri))
        {
            store.Display.Should().NotContain("s3cr3t-pw");
            var b = new MessageBatch.Builder();
            b.Append("users", 0, 0, 1, null, Payload(1, "one"));
            await store.WriteAsync([(Defs.Resolvers.Single(), new ResolverStep(Defs.Resolvers.Single()).Process(b.Build(), 1).Features)]);
            (await store.GetAsync(User, "1")).Should().Contain("one");
        }
        RedisConnection.Parse($"redis://:s3cr3t-pw@127.0.0.1:{secured.Port}/2?tls=false").Display.Should().Be($"redis://***@127.0.0.1:{secured.Port}/2");
        var bad = () => RedisConnection.Parse($"redis://:s3cr3t-pw@127.0.0.1:{secured.Port}/x");
        bad.Should().Throw<FormatException>().Which.Message.Should().NotContain("s3cr3t-pw");
    }

    [Fact]
    public async Task A_redis_restart_mid_run_is_retried_and_no_message_is_lost()
    {
        await using var store = await RedisOnlineStore.OpenAsync(_redis.Uri);
        await using var dedup = await RedisDedupStore.OpenAsync(_redis.Uri);
        const int n = 3000;
        var committed = 0L;
        // Nothing committed that was not written: when offset `next` is committed, the entity of message next - 1 (its id
        // is its offset) is already in Redis, read there and then through another connection.
        await using var reader = await RedisOnlineStore.OpenAsync(_redis.Uri);
        var unwritten = new List<long>();
        void OnCommit(long next)
        {
            if (reader.GetAsync(User, (next - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).GetAwaiter().GetResult() is null)
                lock (unwritten) unwritten.Add(next);
            Interlocked.Exchange(ref committed, next);
        }
        var run = Run(Batches(Enumerable.Range(0, n).Select(i => ((long)i, (long)i, Payload(i, $"u{i}", uid: $"m{i}"))), batch: 100, delayMs: 20), store, dedup,
            o => o with { Tuning = o.Tuning with { CommitInterval = TimeSpan.FromMilliseconds(50) }, Committed = (_, _, next) => OnCommit(next) });
        // Restarted mid-run: once the first rows were committed, with most of the 3,000 still to come (20 ms a batch of 100).
        for (var deadline = DateTime.UtcNow.AddMinutes(1); Interlocked.Read(ref committed) == 0 && DateTime.UtcNow < deadline;) await Task.Delay(10);
        Interlocked.Read(ref committed).Should().BeInRange(1, n - 1, "the restart comes mid-run");
        await _redis.RestartAsync(TimeSpan.FromSeconds(1));
        var result = await run;

        result.Resolvers["get_users_stream"].Written.Should().Be(n);
        Interlocked.Read(ref committed).Should().Be(n);
        unwritten.Should().BeEmpty("an offset is committed only once its message's entity is written");
        await using var raw = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redis.Port}");
        var keys = raw.GetServer($"127.0.0.1:{_redis.Port}").Keys(pattern: "sluice:user:*").Count();
        keys.Should().Be(n, "every message's entity is in Redis after the restart");
    }

    [Fact]
    public Task For_random_streams_with_duplicates_redeliveries_and_disorder_the_online_state_matches_a_reference_model() =>
        ReferenceModel.CheckAsync(async () => await RedisOnlineStore.OpenAsync(_redis.Uri), async () => await RedisDedupStore.OpenAsync(_redis.Uri), _dir);
}
