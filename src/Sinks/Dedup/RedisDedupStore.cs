using System.Globalization;
using System.Text;
using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using StackExchange.Redis;

namespace Sluice.Sinks;

/// <summary>
/// Deduplication on Redis with the contract of <see cref="IDedupStore"/> (the window W in message time). Claims live in
/// hashes, one per resolver, shard and window-wide slice of message time:
/// <c>sluice:dedup:{&lt;resolver&gt;:&lt;shard&gt;}:&lt;bucket&gt;</c>, where shard = FNV-1a of the key's UTF-8 bytes mod 16
/// and bucket = floor(message time / W); field = the deduplication key, value = <c>"&lt;message time µs&gt; &lt;position&gt;"</c>
/// of the claim. A claim can only be within W of claims in its own bucket and the two beside it, so one script call
/// per (shard, bucket) of a batch reads those three hashes for all its keys, decides every claim in order by
/// <see cref="DedupRule"/> against the newest claim found (a free key is claimed; the claimant's own position is a
/// redelivery; another position within W a duplicate; outside it the message goes on and takes the key if newer), and
/// writes the batch's new claims into its bucket at once. Buckets expire two windows of wall-clock time after their last
/// write. The three hashes of a call share their hash tag, so a call stays on one node of a cluster.
/// <para>
/// Where it differs from the embedded stores: a message more than two windows older than its key's claim does not see
/// that claim, so it counts as new (and claims the key among other such late messages). Claims written by earlier
/// versions (one string key per claim) are not read; they expire on their own.
/// </para>
/// </summary>
internal sealed class RedisDedupStore(RedisConnection redis) : IDedupStore
{
    /// <summary>What every dedup key starts with.</summary>
    public const string KeyPrefix = "sluice:dedup:";

    /// <summary>Hashes per resolver and bucket, so that one resolver's claims spread over the nodes of a cluster.</summary>
    public const int Shards = 16;

    private const int ClaimsPerCall = 1024;

    // KEYS: the buckets before, at and after the claims' bucket. ARGV: n, ttl (ms), window (µs), then per claim its key,
    // message time (µs) and position. Returns 1 (goes on) or 0 (duplicate) per claim. Lua numbers are doubles, exact
    // below 2^53: message times in microseconds are.
    private const string Claim = """
        local n, ttl, w = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
        local call, find, sub, abs = redis.call, string.find, string.sub, math.abs
        local fields = {}
        for i = 1, n do fields[i] = ARGV[1 + 3 * i] end
        -- A bucket that does not exist (most often the neighbours) is not asked for n fields: no reply of n nils to convert.
        local none = {}
        local function read(k)
          if call('EXISTS', k) == 1 then return call('HMGET', k, unpack(fields)) end
          return none
        end
        local h1, h2, h3 = read(KEYS[1]), read(KEYS[2]), read(KEYS[3])
        local takenAt, takenPos, out, set, m = {}, {}, {}, {}, 0
        for i = 1, n do
          local f, ats, pos = fields[i], ARGV[2 + 3 * i], ARGV[3 + 3 * i]
          local at = tonumber(ats)
          local hat, hpos = takenAt[f], takenPos[f]
          if not hat then
            local a, b, c = h1[i], h2[i], h3[i]
            if a or b or c then
              for _, h in ipairs({a or false, b or false, c or false}) do
                if h then
                  local sp = find(h, ' ', 1, true)
                  local t = tonumber(sub(h, 1, sp - 1))
                  if (not hat) or t > hat then hat, hpos = t, sub(h, sp + 1) end
                end
              end
            end
          end
          local take = false
          if not hat then out[i] = 1; take = true
          elseif hpos == pos then out[i] = 1
          elseif abs(at - hat) < w then out[i] = 0
          else out[i] = 1; take = at > hat end
          if take then
            set[m + 1] = f
            set[m + 2] = ats .. ' ' .. pos
            m = m + 2
            takenAt[f], takenPos[f] = at, pos
          end
        end
        if m > 0 then
          call('HSET', KEYS[2], unpack(set, 1, m))
          call('PEXPIRE', KEYS[2], ttl)
        end
        return out
        """;

    /// <summary>Connects to <paramref name="uri"/>.</summary>
    public static async Task<RedisDedupStore> OpenAsync(string uri) => new(await RedisConnection.ConnectAsync(uri));

    /// <inheritdoc/>
    public async Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        if (claims.Count == 0) return [];
        // Claims of one (resolver, shard, bucket), in batch order, go in one call (or several of ClaimsPerCall, in order).
        var groups = new Dictionary<(string Resolver, int Shard, long Bucket, long Window), List<int>>();
        var fields = new string[claims.Count];
        for (int i = 0; i < claims.Count; i++)
        {
            var c = claims[i];
            int sep = c.Key.IndexOf('\u001f', StringComparison.Ordinal);
            var resolver = sep < 0 ? "" : c.Key[..sep];
            fields[i] = sep < 0 ? c.Key : c.Key[(sep + 1)..];
            long window = Math.Max(1, c.WindowMicros);
            var group = (resolver, Shard(fields[i]), Math.DivRem(c.MessageMicros, window, out long rem) - (rem < 0 ? 1 : 0), window);
            if (!groups.TryGetValue(group, out var list)) groups[group] = list = [];
            list.Add(i);
        }
        var keep = new bool[claims.Count];
        await RedisRetry.RunAsync("dedup store", redis, async () =>
        {
            var calls = new List<Task>();
            foreach (var ((resolver, shard, bucket, window), members) in groups)
            {
                string hash = $"{KeyPrefix}{{{resolver}:{shard.ToString(CultureInfo.InvariantCulture)}}}:";
                RedisKey[] keys = [hash + (bucket - 1).ToString(CultureInfo.InvariantCulture), hash + bucket.ToString(CultureInfo.InvariantCulture),
                    hash + (bucket + 1).ToString(CultureInfo.InvariantCulture)];
                long ttl = Math.Max(1, 2 * window / 1000);
                // Calls of one group go out in order on one connection and run in that order: a later chunk sees an earlier one's claims.
                for (int start = 0; start < members.Count; start += ClaimsPerCall)
                    calls.Add(Call(keys, members, start, Math.Min(ClaimsPerCall, members.Count - start), ttl, window));
            }
            await Task.WhenAll(calls);
            return 0;
        }, cancellationToken);
        return keep;

        async Task Call(RedisKey[] keys, List<int> members, int start, int n, long ttl, long window)
        {
            var args = new RedisValue[3 + n * 3];
            args[0] = n;
            args[1] = ttl;
            args[2] = window;
            for (int j = 0; j < n; j++)
            {
                int i = members[start + j];
                args[3 + j * 3] = fields[i];
                args[4 + j * 3] = claims[i].MessageMicros;
                args[5 + j * 3] = claims[i].Position;
            }
            var result = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(Claim, keys, args))!;
            for (int j = 0; j < n; j++) keep[members[start + j]] = (long)result[j] == 1;
        }
    }

    /// <summary>The shard of a deduplication key: FNV-1a (32 bits) of its UTF-8 bytes, mod <see cref="Shards"/>.</summary>
    internal static int Shard(string key)
    {
        uint h = 2166136261;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(key) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(key, buffer)] : Encoding.UTF8.GetBytes(key);
        foreach (byte b in bytes) h = (h ^ b) * 16777619;
        return (int)(h % Shards);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await redis.DisposeAsync();
}
