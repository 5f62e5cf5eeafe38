using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Sluice.Clients;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using StackExchange.Redis;

namespace Sluice.Sinks;

/// <summary>
/// The Redis online store (DESIGN.md section 5). One hash per entity, key <c>sluice:&lt;namespace&gt;:&lt;primary key&gt;</c>
/// (e.g. <c>sluice:user:123</c>; the key as decimal text, a string as it is, bytes as they are), and per feature three
/// fields: <c>&lt;fqn&gt;</c> its value as JSON text (<c>"John"</c>, <c>42</c>, <c>null</c>, timestamps as ISO-8601 strings),
/// <c>&lt;fqn&gt;__ts</c> its feature time and <c>&lt;fqn&gt;__exp</c> its expiry (microseconds since the epoch).
/// A server-side script replaces a feature only when the incoming feature time is not older, atomically per entity;
/// the key expires <c>max_staleness</c> after its last write (PEXPIRE; the class's features share it), and reads skip
/// fields whose expiry passed. A class without <c>max_staleness</c> writes no <c>__exp</c> fields.
/// A group goes out as pipelined script calls of up to 256 entities each, retried through restarts.
/// </summary>
internal sealed class RedisOnlineStore : IOnlineStore, IStagingOnlineStore
{
    private const int EntitiesPerCall = 256;

    // KEYS: entity keys. ARGV: expiry (us, '' = none), ttl (ms, 0 = none), k, k feature names, then per entity its
    // feature time and k JSON values.
    private const string Upsert = """
        local exp = ARGV[1]
        local ttl = tonumber(ARGV[2])
        local k = tonumber(ARGV[3])
        local tsNames = {}
        local expNames = {}
        for f = 1, k do
          tsNames[f] = ARGV[3 + f] .. '__ts'
          expNames[f] = ARGV[3 + f] .. '__exp'
        end
        for e = 1, #KEYS do
          local key = KEYS[e]
          local at = 3 + k + (e - 1) * (k + 1) + 1
          local ts = ARGV[at]
          local t = tonumber(ts)
          local held = redis.call('HMGET', key, unpack(tsNames))
          local set = {}
          for f = 1, k do
            if (not held[f]) or t >= tonumber(held[f]) then
              set[#set + 1] = ARGV[3 + f]
              set[#set + 1] = ARGV[at + f]
              set[#set + 1] = tsNames[f]
              set[#set + 1] = ts
              if exp ~= '' then
                set[#set + 1] = expNames[f]
                set[#set + 1] = exp
              end
            end
          end
          if #set > 0 then
            redis.call('HSET', key, unpack(set))
            if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
          end
        end
        return #KEYS
        """;

    private readonly RedisConnection _redis;
    private readonly TimeProvider _clock;

    private RedisOnlineStore(RedisConnection redis, TimeProvider clock)
    {
        _redis = redis;
        _clock = clock;
    }

    /// <summary>
    /// Connects to <paramref name="uri"/> (<c>redis://[user:password@]host:port[/db][?tls=true]</c>); work is retried
    /// through connection loss for <paramref name="giveUpAfter"/> (default 2 minutes).
    /// </summary>
    public static async Task<RedisOnlineStore> OpenAsync(string uri, TimeProvider? clock = null, TimeSpan? giveUpAfter = null) =>
        new(await RedisConnection.ConnectAsync(uri, giveUpAfter), clock ?? TimeProvider.System);

    /// <summary>The store's address, without its password.</summary>
    public string Display => _redis.Display;

    /// <summary>The Redis key of an entity.</summary>
    public static RedisKey EntityKey(FeatureClassPlan cls, ReadOnlySpan<byte> primaryKey) => EntityKey(KeyPrefix(cls), primaryKey);

    /// <summary>What every entity key of <paramref name="cls"/> starts with: <c>sluice:&lt;namespace&gt;:</c>.</summary>
    private static byte[] KeyPrefix(FeatureClassPlan cls) => Encoding.UTF8.GetBytes($"sluice:{cls.Namespace}:");

    private static RedisKey EntityKey(byte[] prefix, ReadOnlySpan<byte> primaryKey)
    {
        var key = new byte[prefix.Length + primaryKey.Length];
        prefix.CopyTo(key, 0);
        primaryKey.CopyTo(key.AsSpan(prefix.Length));
        return key;
    }

    /// <inheritdoc/>
    public Task WriteAsync(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default) =>
        WriteStagedAsync(group.Select(x => Stage(x.Plan, x.Features)).ToList(), cancellationToken);

    /// <summary>A batch's script calls, built when the graph stages it (while the previous group is in flight); the expiry is filled in at the write.</summary>
    private sealed record Staged(ResolverPlan Plan, List<(RedisKey[] Keys, RedisValue[] Values)> Calls);

    object IStagingOnlineStore.Stage(ResolverPlan plan, RecordBatch features) => Stage(plan, features);

    Task IStagingOnlineStore.WriteStagedAsync(IReadOnlyList<object> staged, CancellationToken cancellationToken) =>
        WriteStagedAsync(staged.Cast<Staged>().ToList(), cancellationToken);

    private static Staged Stage(ResolverPlan plan, RecordBatch features) => new(plan, Calls(plan, features).ToList());

    private async Task WriteStagedAsync(List<Staged> staged, CancellationToken cancellationToken)
    {
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000; // max_staleness counts from the write
        foreach (var s in staged)
        {
            RedisValue exp = s.Plan.Class.ExpiresAt(now) is { } e ? e : RedisValue.EmptyString;
            foreach (var (_, values) in s.Calls) values[0] = exp;
        }
        var calls = staged.SelectMany(s => s.Calls).ToList();
        if (calls.Count == 0) return;
        await RedisRetry.RunAsync("online store", _redis, async () =>
        {
            await Task.WhenAll(calls.Select(c => _redis.Database.ScriptEvaluateAsync(Upsert, c.Keys, c.Values)));
            return 0;
        }, cancellationToken);
    }

    /// <summary>The script calls of one batch: up to <see cref="EntitiesPerCall"/> entities each; ARGV[1] (the expiry) is left for the write.</summary>
    private static IEnumerable<(RedisKey[] Keys, RedisValue[] Values)> Calls(ResolverPlan plan, RecordBatch f)
    {
        var cls = plan.Class;
        var features = OnlineRows.ValueFeatures(plan, f.Schema);
        var columns = features.Select(x => f.Column(x.Fqn)).ToArray();
        var time = (TimestampArray)f.Column("__ts__");
        var key = f.Column(cls.Primary.Fqn);
        var prefix = KeyPrefix(cls);
        RedisValue ttl = cls.MaxStaleness is { } s ? (long)s.TotalMilliseconds : 0;
        for (int start = 0; start < f.Length; start += EntitiesPerCall)
        {
            int n = Math.Min(EntitiesPerCall, f.Length - start);
            var keys = new RedisKey[n];
            var values = new RedisValue[3 + features.Length + n * (features.Length + 1)];
            values[1] = ttl;
            values[2] = features.Length;
            for (int c = 0; c < features.Length; c++) values[3 + c] = features[c].Fqn;
            int v = 3 + features.Length;
            for (int i = 0; i < n; i++)
            {
                int r = start + i;
                keys[i] = EntityKey(prefix, KeyBytes(key, r, cls.Primary.Type));
                values[v++] = time.Values[r];
                for (int c = 0; c < features.Length; c++) values[v++] = FeatureJson.ToJson(columns[c], r, features[c].Type);
            }
            yield return (keys, values);
        }
    }

    private static byte[] KeyBytes(IArrowArray column, int row, DataType type) => column switch
    {
        StringArray s => s.GetBytes(row).ToArray(),
        BinaryArray b => b.GetBytes(row).ToArray(),
        _ => Encoding.UTF8.GetBytes(FeatureJson.ToJson(column, row, type)),
    };

    /// <inheritdoc/>
    public async Task<string?> GetAsync(FeatureClassPlan cls, string primaryKey, CancellationToken cancellationToken = default)
    {
        byte[] keyBytes;
        switch (cls.Primary.Type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum:
                if (!long.TryParse(primaryKey, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)) return null;
                keyBytes = Encoding.UTF8.GetBytes(l.ToString(CultureInfo.InvariantCulture));
                break;
            case TypeKind.Bytes:
                try { keyBytes = Convert.FromBase64String(primaryKey); }
                catch (FormatException) { return null; }
                break;
            default:
                keyBytes = Encoding.UTF8.GetBytes(primaryKey);
                break;
        }
        var entries = await RedisRetry.RunAsync("online store", _redis, () => _redis.Database.HashGetAllAsync(EntityKey(cls, keyBytes)), cancellationToken);
        if (entries.Length == 0) return null;
        var fields = entries.ToDictionary(e => e.Name.ToString(), e => e.Value, StringComparer.Ordinal);
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
        var values = new List<(string Fqn, string Json)>();
        foreach (var f in cls.Features.Where(x => !x.Primary))
        {
            if (!fields.TryGetValue(f.Fqn, out var value)) continue;
            if (fields.TryGetValue(f.Fqn + "__exp", out var exp) && (long)exp <= now) continue; // expired
            values.Add((f.Fqn, value.ToString()));
        }
        if (values.Count == 0 && cls.Features.Any(f => !f.Primary)) return null;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions with { Indented = true }))
        {
            w.WriteStartObject();
            w.WritePropertyName(cls.Primary.Fqn);
            if (cls.Primary.Type.Kind is TypeKind.Int64 or TypeKind.Enum) w.WriteRawValue(Encoding.UTF8.GetString(keyBytes));
            else if (cls.Primary.Type.Kind == TypeKind.Bytes) w.WriteStringValue(Convert.ToBase64String(keyBytes));
            else w.WriteStringValue(primaryKey);
            foreach (var (fqn, json) in values)
            {
                w.WritePropertyName(fqn);
                w.WriteRawValue(json);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
