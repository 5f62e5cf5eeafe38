using FluentAssertions;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks.Tests.Dedup;

/// <summary>
/// The contract of <see cref="IDedupStore"/>, run on every store (memory and SQLite here, Redis and DynamoDB by their
/// integration tests): redeliveries pass, duplicates drop, and the window is measured in message time, never wall-clock
/// time. <c>namespace</c> keeps the keys of one run apart from another's on a shared server.
/// </summary>
internal static class DedupContract
{
    public const long Hour = 3_600_000_000;

    public static DedupClaim Claim(string ns, string key, string position, long at) => new(ns + "\u001f" + key, position, at, 24 * Hour);

    public static async Task DuplicatesDropRedeliveriesPassAndClaimsExpireAfterTheWindow(IDedupStore store, string ns)
    {
        DedupClaim C(string key, string position, long at) => Claim(ns, key, position, at);
        (await store.ClaimAsync([C("1", "t/0/0", 0), C("1", "t/0/1", Hour), C("2", "t/0/2", Hour)]))
            .Should().Equal([true, false, true], "the second message with key 1 is a duplicate within one batch");
        (await store.ClaimAsync([C("1", "t/0/0", 0)])).Should().Equal([true], "the claimant itself, redelivered, is processed again");
        (await store.ClaimAsync([C("1", "t/0/9", 23 * Hour)])).Should().Equal([false]);
        (await store.ClaimAsync([C("1", "t/0/10", 24 * Hour)])).Should().Equal([true], "the window has passed, in message time");
        (await store.ClaimAsync([C("1", "t/0/11", 25 * Hour)])).Should().Equal([false], "t/0/10 holds the key now");
    }

    public static async Task AnOlderStragglerWithinTheWindowIsADuplicateAndAnOlderOneOutsideNeverTakesTheKey(IDedupStore store, string ns)
    {
        DedupClaim C(string key, string position, long at) => Claim(ns, key, position, at);
        await store.ClaimAsync([C("1", "t/0/5", 30 * Hour)]);
        (await store.ClaimAsync([C("1", "t/0/4", 29 * Hour)])).Should().Equal([false], "an hour before the claim, within 24h");
        (await store.ClaimAsync([C("1", "t/0/1", 2 * Hour)])).Should().Equal([true], "28h before the claim");
        (await store.ClaimAsync([C("1", "t/0/6", 31 * Hour)])).Should().Equal([false], "t/0/5 still holds the key: the straggler did not take it");
    }
}
