using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Observability;
using StackExchange.Redis;

namespace Sluice.Clients;

/// <summary>
/// Retries Redis work through connection loss (a restarted server, a failover) with exponential backoff. The work
/// must be safe to repeat: online upserts are (the newest feature time wins either way) and dedup claims are (a claim
/// held by the message's own position is a redelivery). Nothing is acknowledged at the source until the work succeeds.
/// </summary>
internal static class RedisRetry
{
    private static readonly ILogger Log = SluiceLog.For("Sluice.Redis");

    public static async Task<T> RunAsync<T>(string what, RedisConnection redis, Func<Task<T>> work, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        var deadline = DateTime.UtcNow + redis.GiveUpAfter;
        int attempt = 0;
        while (true)
        {
            attempt++;
            try
            {
                var result = await work();
                redis.Health.Ready(); // it answered
                if (attempt > 1)
                {
                    Log.LogInformation("{What} ({Redis}) succeeded again after {Attempts} attempts", what, redis.Display, attempt);
                }
                return result;
            }
            catch (Exception e) when (Transient(e) && DateTime.UtcNow < deadline)
            {
                SluiceMetrics.Retried("redis");
                if (attempt == 1)
                {
                    // Once per outage, not once per attempt: the recovery above says when it ended.
                    redis.Health.NotReadyBecause($"unreachable: {e.Message}");
                    Log.LogWarning("{What} ({Redis}) failed ({Error}); retrying with backoff for up to {Seconds:F0} s", what, redis.Display, e.Message, redis.GiveUpAfter.TotalSeconds);
                }
                await Task.Delay(delay, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
            catch (Exception e) when (Transient(e))
            {
                redis.Health.NotReadyBecause($"gave up: {e.Message}");
                throw new InvalidOperationException($"{what} ({redis.Display}): gave up after {attempt} attempts over {redis.GiveUpAfter.TotalSeconds:F0} s: {e.Message}", e);
            }
        }
    }

    // Also what a cluster answers while a slot moves or a master fails over: the work is regrouped by node and sent again.
    private static bool Transient(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || (e is RedisServerException s && (Prefixes.Any(p => s.Message.StartsWith(p, StringComparison.Ordinal))
            || s.Message.Contains("non local key", StringComparison.Ordinal)));

    private static readonly string[] Prefixes = ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MOVED", "ASK", "MASTERDOWN", "READONLY"];
}
