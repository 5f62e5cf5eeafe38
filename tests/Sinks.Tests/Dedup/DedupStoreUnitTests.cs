using FluentAssertions;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks.Tests.Dedup;

/// <summary>The redelivery-safe dedup semantics, the same for every store (SQLite on a temp file needs no server).</summary>
public sealed class DedupStoreUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-dedup-").FullName;
    private const long Hour = 3_600_000_000;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Stores => new() { "memory", "sqlite" };

    private async Task<IDedupStore> Open(string kind) =>
        kind == "memory" ? new InMemoryDedupStore() : await SqliteDedupStore.OpenAsync(Path.Combine(_dir, "dedup.db"));

    private static DedupClaim Claim(string key, string position, long at) => DedupContract.Claim("r", key, position, at);

    [Theory, MemberData(nameof(Stores))]
    public async Task Duplicates_drop_redeliveries_pass_and_claims_expire_after_the_window(string kind)
    {
        await using var store = await Open(kind);
        await DedupContract.DuplicatesDropRedeliveriesPassAndClaimsExpireAfterTheWindow(store, "r");
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task An_older_straggler_within_the_window_is_a_duplicate_and_an_older_one_outside_never_takes_the_key(string kind)
    {
        await using var store = await Open(kind);
        await DedupContract.AnOlderStragglerWithinTheWindowIsADuplicateAndAnOlderOneOutsideNeverTakesTheKey(store, "r");
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task For_random_streams_the_embedded_online_state_matches_the_reference_model(string kind) =>
        await ReferenceModel.CheckAsync(async () => await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db")), () => Open(kind), _dir);

    [Fact]
    public async Task Sqlite_claims_survive_a_restart()
    {
        var path = Path.Combine(_dir, "dedup.db");
        await using (var store = await SqliteDedupStore.OpenAsync(path))
            await store.ClaimAsync([Claim("7", "t/0/0", 0)]);
        await using (var store = await SqliteDedupStore.OpenAsync(path))
        {
            (await store.ClaimAsync([Claim("7", "t/0/5", Hour)])).Should().Equal([false]);
            (await store.ClaimAsync([Claim("7", "t/0/0", 0)])).Should().Equal([true]);
        }
    }

    [Theory, MemberData(nameof(Stores))]
    public async Task Claims_the_stream_has_left_two_windows_behind_are_forgotten(string kind)
    {
        await using var store = await Open(kind);
        long Held() => store switch { InMemoryDedupStore m => m.HeldKeys, SqliteDedupStore q => q.HeldKeys, _ => -1 };
        await store.ClaimAsync(Enumerable.Range(0, 100).Select(i => Claim($"old{i}", $"t/0/{i}", 0)).ToList());
        await store.ClaimAsync([Claim("mid", "t/0/100", 30 * Hour)]);
        Held().Should().Be(101, "30h is within two 24h windows of the old claims");
        (await store.ClaimAsync([Claim("new", "t/0/101", 49 * Hour)])).Should().Equal([true]);
        Held().Should().Be(2, "the claims made at 0 are more than 48h behind the newest message");
        (await store.ClaimAsync([Claim("mid", "t/0/102", 55 * Hour)])).Should().Equal([true], "25h after mid's claim: outside its window");
        (await store.ClaimAsync([Claim("new", "t/0/103", 50 * Hour)])).Should().Equal([false], "recent claims stay");
    }
}
