using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using StackExchange.Redis;

namespace Sluice.Sinks;

/// <summary>
/// Deduplication on Redis with the contract of <see cref="IDedupStore"/> (the window in message time). A key
/// <c>sluice:dedup:&lt;resolver&gt;\u001f&lt;key&gt;</c> holds <c>&lt;message time µs&gt; &lt;position&gt;</c> of the message that
/// claimed it; one script call per batch applies the batch's claims in order, atomically, by <see cref="DedupRule"/>:
/// a free key is claimed, the claimant's own position is a redelivery, another position within the window (in message
/// time) a duplicate, and outside it the message goes on and takes the key if it is newer. Keys expire two windows of
/// wall-clock time after their claim (PX), so the server keeps what a live stream's decisions need and forgets the rest.
/// A value of the earlier layout (a bare position) is held until it expires.
/// </summary>
internal sealed class RedisDedupStore(RedisConnection redis) : IDedupStore
{
    /// <summary>What every dedup key starts with.</summary>
    public const string KeyPrefix = "sluice:dedup:";

    // KEYS: the claimed keys in order; ARGV: per claim its position, message time (µs) and window (µs). Returns 1 (goes
    // on) or 0 (duplicate) per claim. Times stay strings until compared: Lua numbers are doubles, exact below 2^53.
    private const string Claim = """
        local out = {}
        for i = 1, #KEYS do
          local pos, at, w = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
          local ttl = math.max(1, math.floor(2 * w / 1000))
          local held = redis.call('GET', KEYS[i])
          local take = false
          if not held then
            out[i] = 1
            take = true
          else
            local sp = string.find(held, ' ', 1, true)
            if not sp then
              out[i] = (held == pos) and 1 or 0
            else
              local hat, hpos = tonumber(string.sub(held, 1, sp - 1)), string.sub(held, sp + 1)
              if hpos == pos then out[i] = 1
              elseif math.abs(at - hat) < w then out[i] = 0
              else
                out[i] = 1
                take = at > hat
              end
            end
          end
          if take then redis.call('SET', KEYS[i], ARGV[3 * i - 1] .. ' ' .. pos, 'PX', ttl) end
        end
        return out
        """;

    /// <summary>Connects to <paramref name="uri"/>.</summary>
    public static async Task<RedisDedupStore> OpenAsync(string uri) => new(await RedisConnection.ConnectAsync(uri));

    /// <inheritdoc/>
    public async Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        if (claims.Count == 0) return [];
        var keys = new RedisKey[claims.Count];
        var args = new RedisValue[claims.Count * 3];
        for (int i = 0; i < claims.Count; i++)
        {
            var c = claims[i];
            keys[i] = KeyPrefix + c.Key;
            args[3 * i] = c.Position;
            args[3 * i + 1] = c.MessageMicros;
            args[3 * i + 2] = Math.Max(1, c.WindowMicros);
        }
        var result = (RedisResult[])(await RedisRetry.RunAsync("dedup store", redis,
            () => redis.Database.ScriptEvaluateAsync(Claim, keys, args), cancellationToken))!;
        var keep = new bool[claims.Count];
        for (int i = 0; i < keep.Length; i++) keep[i] = (long)result[i] == 1;
        return keep;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await redis.DisposeAsync();
}
