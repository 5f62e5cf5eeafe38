using System.Buffers;
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
/// The Redis online store. One hash per entity, key <c>sluice:&lt;namespace&gt;:&lt;primary key&gt;</c> (e.g.
/// <c>sluice:user:123</c>; the key as decimal text, a string as it is, bytes as they are), one field per feature, named
/// by its FQN, holding <c>"&lt;feature time&gt; &lt;expiry&gt; &lt;value&gt;"</c>: the feature time in microseconds and the
/// expiry in seconds since the epoch (<c>-</c> when the class has no <c>max_staleness</c>) and the value as JSON text
/// (<c>"John"</c>, <c>42</c>, <c>null</c>, timestamps as ISO-8601 strings), e.g. <c>1700000000000000 1702592000 "John"</c>.
/// A server-side script replaces a feature only when the incoming feature time is not older, atomically per entity.
/// <c>max_staleness</c> hides a value on read once its own expiry (<c>max_staleness</c> after its write) passed. Keys
/// themselves do not expire by default: memory is Redis's to bound (<c>maxmemory</c> with an eviction policy such as
/// <c>allkeys-lru</c>), as with Feast's default. With <c>key_ttl=true</c> in the URI a key also expires
/// <c>max_staleness</c> after its last write (PEXPIRE), so that entities nobody writes any more leave the server; that
/// costs about a quarter of the server's time per new entity (measured with <c>perf redis</c>).
/// <para>
/// A batch goes out as script calls of up to 256 entities each, the arguments encoded into one buffer (no string per
/// value). On a Redis Cluster each call carries only keys of one node (declaring its first key, so that it is routed
/// there, and the script flagged <c>allow-cross-slot-keys</c>); what a moving slot or a failover refuses is regrouped
/// and sent again. Writes are retried through restarts; repeating one is harmless (the newest feature time wins).
/// Fields of the earlier layout (a bare JSON value beside <c>&lt;fqn&gt;__ts</c> and <c>&lt;fqn&gt;__exp</c>) are read, and
/// replaced by the next write of their feature.
/// </para>
/// </summary>
internal sealed class RedisOnlineStore : IOnlineStore, IStagingOnlineStore
{
    private const int EntitiesPerCall = 256;

    // ARGV: ttl (ms, '0' = none), k, k feature names, n, then per entity its key, its feature time and k values
    // ("<time> <expiry> <json>"). KEYS: the first entity's key (routing only). A held value that does not start with a
    // time (the earlier layout) is replaced.
    private const string Upsert = """
        local ttl, k = ARGV[1], tonumber(ARGV[2])
        local names = {}
        for f = 1, k do names[f] = ARGV[2 + f] end
        local n = tonumber(ARGV[3 + k])
        local call, find, sub = redis.call, string.find, string.sub
        local set = {}
        local at = 4 + k
        for e = 1, n do
          local key, t = ARGV[at], tonumber(ARGV[at + 1])
          local held = call('HMGET', key, unpack(names))
          local m = 0
          for f = 1, k do
            local h = held[f]
            local ht = nil
            if h then
              local sp = find(h, ' ', 1, true)
              if sp then ht = tonumber(sub(h, 1, sp - 1)) end
            end
            if (not ht) or t >= ht then
              set[m + 1] = names[f]
              set[m + 2] = ARGV[at + 1 + f]
              m = m + 2
            end
          end
          if m > 0 then
            call('HSET', key, unpack(set, 1, m))
            if ttl ~= '0' then call('PEXPIRE', key, ttl) end
          end
          at = at + 2 + k
        end
        return n
        """;

    // The same script on a cluster: its keys span slots (one node's).
    private const string ClusterUpsert = "#!lua flags=allow-cross-slot-keys\n" + Upsert;

    private readonly RedisConnection _redis;
    private readonly TimeProvider _clock;

    private RedisOnlineStore(RedisConnection redis, TimeProvider clock)
    {
        _redis = redis;
        _clock = clock;
    }

    /// <summary>
    /// Connects to <paramref name="uri"/> (<c>redis://[user:password@]host:port[,host:port...][/db][?tls=true]</c>); work
    /// is retried through connection loss for <paramref name="giveUpAfter"/> (default 2 minutes).
    /// </summary>
    public static async Task<RedisOnlineStore> OpenAsync(string uri, TimeProvider? clock = null, TimeSpan? giveUpAfter = null) =>
        new(await RedisConnection.ConnectAsync(uri, giveUpAfter), clock ?? TimeProvider.System);

    /// <summary>The store's address, without its password.</summary>
    public string Display => _redis.Display;

    /// <summary>
    /// Small groups, several in flight: the server is kept busy from the first batch on (a 262,144-row group left it
    /// idle while the first group staged) and writes of one connection run in the order they were sent.
    /// </summary>
    public OnlineWriteShape WriteShape { get; } = new(8192, 4);

    /// <summary>The Redis key of an entity.</summary>
    public static RedisKey EntityKey(FeatureClassPlan cls, ReadOnlySpan<byte> primaryKey) => EntityKey(KeyPrefix(cls), primaryKey);

    /// <summary>What every entity key of <paramref name="cls"/> starts with: <c>sluice:&lt;namespace&gt;:</c>.</summary>
    private static byte[] KeyPrefix(FeatureClassPlan cls) => Encoding.UTF8.GetBytes($"sluice:{cls.Namespace}:");

    private static byte[] EntityKey(byte[] prefix, ReadOnlySpan<byte> primaryKey)
    {
        var key = new byte[prefix.Length + primaryKey.Length];
        prefix.CopyTo(key, 0);
        primaryKey.CopyTo(key.AsSpan(prefix.Length));
        return key;
    }

    /// <inheritdoc/>
    public Task WriteAsync(IReadOnlyList<(ResolverPlan Plan, RecordBatch Features)> group, CancellationToken cancellationToken = default) =>
        WriteStagedAsync(group.Select(x => Stage(x.Plan, x.Features)).ToList(), cancellationToken);

    /// <summary>
    /// A batch encoded when the graph stages it (while the previous group is in flight): per row its key and feature time,
    /// and each value's JSON as a slice of one buffer. The values' time and expiry prefix is added at the write.
    /// </summary>
    private sealed record Staged(ResolverPlan Plan, RedisValue[] Names, RedisKey[] Keys, long[] Times, ReadOnlyMemory<byte>[] Json);

    object IStagingOnlineStore.Stage(ResolverPlan plan, RecordBatch features) => Stage(plan, features);

    Task IStagingOnlineStore.WriteStagedAsync(IReadOnlyList<object> staged, CancellationToken cancellationToken) =>
        WriteStagedAsync(staged.Cast<Staged>().ToList(), cancellationToken);

    private static Staged Stage(ResolverPlan plan, RecordBatch f)
    {
        var cls = plan.Class;
        var features = OnlineRows.ValueFeatures(plan, f.Schema);
        int k = features.Length;
        var columns = features.Select(x => f.Column(x.Fqn)).ToArray();
        var time = (TimestampArray)f.Column("__ts__");
        var keyColumn = f.Column(cls.Primary.Fqn);
        var prefix = KeyPrefix(cls);
        var keys = new RedisKey[f.Length];
        var times = new long[f.Length];
        var spans = new (int Start, int Length)[f.Length * k];
        var buffer = new ArrayBufferWriter<byte>(f.Length * k * 24 + 64);
        var json = new Utf8JsonWriter(buffer, FeatureJson.WriterOptions);
        Span<byte> digits = stackalloc byte[20];
        for (int r = 0; r < f.Length; r++)
        {
            keys[r] = EntityKey(prefix, KeyBytes(keyColumn, r, cls.Primary.Type, digits));
            times[r] = time.Values[r];
            for (int c = 0; c < k; c++)
            {
                int start = buffer.WrittenCount;
                json.Reset(buffer);
                FeatureJson.Write(json, columns[c], r, features[c].Type);
                json.Flush();
                spans[r * k + c] = (start, buffer.WrittenCount - start);
            }
        }
        var memory = buffer.WrittenMemory;
        return new Staged(plan, features.Select(x => (RedisValue)x.Fqn).ToArray(), keys, times,
            spans.Select(x => memory.Slice(x.Start, x.Length)).ToArray());
    }

    private async Task WriteStagedAsync(List<Staged> staged, CancellationToken cancellationToken)
    {
        if (staged.All(s => s.Keys.Length == 0)) return;
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000; // max_staleness counts from the write
        // Per row: its key, its time and its values with their "<time> <expiry> " prefix, one buffer per batch.
        // The expiry in whole seconds (rounded up): ten digits where microseconds take sixteen, so that a value with its
        // prefix stays within Redis's compact hash encoding (64 bytes a value by default) more often.
        var rows = staged.Select(s => Rows(s, s.Plan.Class.ExpiresAt(now) is { } e ? (e + 999_999) / 1_000_000 : null)).ToList();
        await RedisRetry.RunAsync("online store", _redis, async () =>
        {
            // Grouped by node at each try: a slot that moved is found where it is now.
            bool cluster = _redis.IsCluster;
            var calls = new List<Task<RedisResult>>();
            for (int b = 0; b < staged.Count; b++)
            {
                var s = staged[b];
                RedisValue ttl = _redis.KeyTtl && s.Plan.Class.MaxStaleness is { } st ? (long)st.TotalMilliseconds : 0;
                foreach (var node in _redis.ByNode(s.Keys))
                    for (int start = 0; start < node.Count; start += EntitiesPerCall)
                        calls.Add(Call(s, rows[b], node, start, Math.Min(EntitiesPerCall, node.Count - start), ttl, cluster));
            }
            await Task.WhenAll(calls);
            return 0;
        }, cancellationToken);
    }

    /// <summary>The script arguments of every row of <paramref name="s"/>: key, feature time, then each value prefixed by its time and expiry.</summary>
    private static RedisValue[] Rows(Staged s, long? expiry)
    {
        int k = s.Names.Length;
        var rows = new RedisValue[s.Keys.Length * (k + 2)];
        var buffer = new byte[s.Json.Sum(j => j.Length + 40)];
        int at = 0;
        for (int r = 0; r < s.Keys.Length; r++)
        {
            rows[r * (k + 2)] = (byte[])s.Keys[r]!;
            rows[r * (k + 2) + 1] = s.Times[r];
            for (int c = 0; c < k; c++)
            {
                int start = at;
                s.Times[r].TryFormat(buffer.AsSpan(at), out int w, default, CultureInfo.InvariantCulture);
                at += w;
                buffer[at++] = (byte)' ';
                if (expiry is { } e)
                {
                    e.TryFormat(buffer.AsSpan(at), out w, default, CultureInfo.InvariantCulture);
                    at += w;
                }
                else buffer[at++] = (byte)'-';
                buffer[at++] = (byte)' ';
                var json = s.Json[r * k + c].Span;
                json.CopyTo(buffer.AsSpan(at));
                at += json.Length;
                rows[r * (k + 2) + 2 + c] = new ReadOnlyMemory<byte>(buffer, start, at - start);
            }
        }
        return rows;
    }

    private Task<RedisResult> Call(Staged s, RedisValue[] rows, List<int> entities, int start, int n, RedisValue ttl, bool cluster)
    {
        int k = s.Names.Length;
        var args = new RedisValue[3 + k + n * (k + 2)];
        args[0] = ttl;
        args[1] = k;
        s.Names.CopyTo(args, 2);
        args[2 + k] = n;
        for (int i = 0; i < n; i++) System.Array.Copy(rows, entities[start + i] * (k + 2), args, 3 + k + i * (k + 2), k + 2);
        return _redis.Database.ScriptEvaluateAsync(cluster ? ClusterUpsert : Upsert, [s.Keys[entities[start]]], args);
    }

    /// <summary>A primary key's bytes: a string or bytes as they are, an integer as decimal text (into <paramref name="digits"/>).</summary>
    private static ReadOnlySpan<byte> KeyBytes(IArrowArray column, int row, DataType type, Span<byte> digits) => column switch
    {
        StringArray s => s.GetBytes(row),
        BinaryArray b => b.GetBytes(row),
        Int64Array l when l.Values[row].TryFormat(digits, out int n, default, CultureInfo.InvariantCulture) => digits[..n],
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
            var (expiry, json) = Split(value.ToString(), fields, f.Fqn);
            if (expiry is { } e && e <= now) continue; // expired
            values.Add((f.Fqn, json));
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

    /// <summary>
    /// A field's expiry and JSON value: <c>"&lt;time&gt; &lt;expiry|-&gt; &lt;json&gt;"</c>, or a bare JSON value of the earlier
    /// layout, whose expiry is in its <c>&lt;fqn&gt;__exp</c> field.
    /// </summary>
    private static (long? Expiry, string Json) Split(string field, Dictionary<string, RedisValue> fields, string fqn)
    {
        int a = field.IndexOf(' ', StringComparison.Ordinal);
        int b = a < 0 ? -1 : field.IndexOf(' ', a + 1);
        if (b > 0 && long.TryParse(field.AsSpan(0, a), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            var exp = field.AsSpan(a + 1, b - a - 1);
            return (exp is "-" ? null : long.Parse(exp, CultureInfo.InvariantCulture) * 1_000_000, field[(b + 1)..]);
        }
        return (fields.TryGetValue(fqn + "__exp", out var legacy) ? (long)legacy : null, field);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
