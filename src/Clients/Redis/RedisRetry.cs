using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Sluice.Pipeline.Observability;
using StackExchange.Redis;

namespace Sluice.Clients;

/// <summary>
/// Retries Redis work through connection loss (a restarted server, a failover) with jittered exponential backoff (a
/// Polly retry strategy) until the connection's retry_for has passed. The work
/// must be safe to repeat: online upserts are (the newest feature time wins either way) and dedup claims are (a claim
/// held by the message's own position is a redelivery). Nothing is acknowledged at the source until the work succeeds.
/// </summary>
internal static class RedisRetry
{
    private static readonly ILogger Log = SluiceLog.For("Sluice.Redis");
    private static readonly ResiliencePropertyKey<Call> Current = new("sluice.redis.call");

    /// <summary>What one call is doing, for the retry strategy: its deadline, and what to log and report.</summary>
    private sealed record Call(string What, RedisConnection Redis, DateTime Deadline)
    {
        public int Attempts;
    }

    /// <summary>Transient errors until the call's deadline (the connection's retry_for): jittered exponential backoff from 50 ms, at most 2 s apart.</summary>
    private static readonly ResiliencePipeline Pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && Transient(e)
            && args.Context.Properties.TryGetValue(Current, out var call) && DateTime.UtcNow < call.Deadline),
        MaxRetryAttempts = int.MaxValue,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(50),
        MaxDelay = TimeSpan.FromSeconds(2),
        OnRetry = args =>
        {
            SluiceMetrics.Retried("redis");
            var call = args.Context.Properties.GetValue(Current, null!);
            if (args.AttemptNumber == 0)
            {
                // Once per outage, not once per attempt: the recovery says when it ended.
                var e = args.Outcome.Exception!;
                call.Redis.Health.NotReadyBecause($"unreachable: {e.Message}");
                Log.LogWarning("{What} ({Redis}) failed ({Error}); retrying with backoff for up to {Seconds:F0} s", call.What, call.Redis.Display, e.Message, call.Redis.GiveUpAfter.TotalSeconds);
            }
            return default;
        },
    }).Build();

    public static async Task<T> RunAsync<T>(string what, RedisConnection redis, Func<Task<T>> work, CancellationToken ct)
    {
        var call = new Call(what, redis, DateTime.UtcNow + redis.GiveUpAfter);
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(Current, call);
        try
        {
            var result = await Pipeline.ExecuteAsync(static async (_, state) =>
            {
                state.Call.Attempts++;
                return await state.Work();
            }, context, (Call: call, Work: work));
            // It answered; ready only while the client is connected, as the connection's own events say.
            if (redis.Multiplexer.IsConnected) redis.Health.Ready();
            if (call.Attempts > 1)
                Log.LogInformation("{What} ({Redis}) succeeded again after {Attempts} attempts", what, redis.Display, call.Attempts);
            return result;
        }
        catch (Exception e) when (Transient(e))
        {
            redis.Health.NotReadyBecause($"gave up: {e.Message}");
            throw new InvalidOperationException($"{what} ({redis.Display}): gave up after {call.Attempts} attempts over {redis.GiveUpAfter.TotalSeconds:F0} s: {e.Message}", e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Also what a cluster answers while a slot moves or a master fails over: the work is regrouped by node and sent again.
    private static bool Transient(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || (e is RedisServerException s && (Prefixes.Any(p => s.Message.StartsWith(p, StringComparison.Ordinal))
            || s.Message.Contains("non local key", StringComparison.Ordinal)));

    private static readonly string[] Prefixes = ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MOVED", "ASK", "MASTERDOWN", "READONLY"];
}
