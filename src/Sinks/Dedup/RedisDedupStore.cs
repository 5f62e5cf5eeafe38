using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using StackExchange.Redis;

namespace Sluice.Sinks;

/// <summary>
/// Deduplication on Redis (DESIGN.md section 4): per claim <c>SET sluice:dedup:&lt;resolver&gt;\u001f&lt;key&gt; &lt;position&gt;
/// NX PX &lt;within&gt; GET</c>, pipelined per batch. No previous value: the message claimed the key and goes on. The
/// message's own position: a redelivery (it was claimed before a crash), it goes on. Another position: a duplicate.
/// Claims of one batch are sent in order, so duplicates within a batch resolve within it. The window runs from the
/// claim (wall clock, as PX does), not in message time as the embedded stores measure it.
/// </summary>
public sealed class RedisDedupStore(RedisConnection redis) : IDedupStore
{
    /// <summary>Connects to <paramref name="uri"/>.</summary>
    public static async Task<RedisDedupStore> OpenAsync(string uri) => new(await RedisConnection.ConnectAsync(uri));

    /// <inheritdoc/>
    public async Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        if (claims.Count == 0) return [];
        var held = await RedisRetry.RunAsync("dedup store", redis, () => Task.WhenAll(claims.Select(c =>
            redis.Database.StringSetAndGetAsync("sluice:dedup:" + c.Key, c.Position,
                TimeSpan.FromMilliseconds(Math.Max(1, c.WindowMicros / 1000)), when: When.NotExists))), cancellationToken);
        var keep = new bool[claims.Count];
        for (int i = 0; i < keep.Length; i++) keep[i] = held[i].IsNull || held[i] == claims[i].Position;
        return keep;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await redis.DisposeAsync();
}
