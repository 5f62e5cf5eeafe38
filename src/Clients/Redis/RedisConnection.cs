using System.Globalization;
using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Observability;
using StackExchange.Redis;

namespace Sluice.Clients;

/// <summary>
/// A Redis connection from a store URI <c>redis://[user:password@]host:port[,host:port...][/db][?tls=true][&amp;key_ttl=true]</c>:
/// one server, or the seed nodes of a Redis Cluster (the client discovers the rest). The password goes to the client and
/// nowhere else: <see cref="Display"/> (what messages show) never holds it.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private RedisConnection(ConnectionMultiplexer multiplexer, int database, string display, bool keyTtl)
    {
        KeyTtl = keyTtl;
        Multiplexer = multiplexer;
        Database = multiplexer.GetDatabase(database);
        Display = display;
        Health = SluiceHealth.Store($"store redis {display}");
        if (multiplexer.IsConnected) Health.Ready();
        else Health.NotReadyBecause("not connected");
        var log = SluiceLog.For("Sluice.Redis");
        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (e.ConnectionType != ConnectionType.Interactive) return;
            Health.NotReadyBecause($"connection to {e.EndPoint} lost: {e.FailureType}");
            log.LogWarning("Redis {Redis}: connection to {EndPoint} lost ({Failure}); writes are retried until it is back", display, e.EndPoint, e.FailureType);
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            if (e.ConnectionType != ConnectionType.Interactive) return;
            if (multiplexer.IsConnected) Health.Ready();
            SluiceMetrics.Reconnected("redis");
            log.LogInformation("Redis {Redis}: connection to {EndPoint} restored", display, e.EndPoint);
        };
    }

    /// <summary>Whether the server answers, for readiness.</summary>
    public SluiceHealth.Component Health { get; }

    /// <summary>The client.</summary>
    public ConnectionMultiplexer Multiplexer { get; }
    /// <summary>The database the URI names (0 by default; a cluster has only 0).</summary>
    public IDatabase Database { get; }
    /// <summary>The URI without its password, for messages.</summary>
    public string Display { get; }
    /// <summary>Whether online entity keys also expire <c>max_staleness</c> after their last write (<c>key_ttl=true</c>).</summary>
    public bool KeyTtl { get; }
    /// <summary>How long work is retried through connection loss before it fails (the graph then faults).</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Whether the server is a Redis Cluster: a script then runs per node, over the keys that node holds.</summary>
    public bool IsCluster => Multiplexer.GetServers().Any(s => s.ServerType == ServerType.Cluster);

    /// <summary>
    /// The indexes of <paramref name="keys"/> grouped by the node that holds them (one group on a single server), so
    /// that one script call per group touches only keys local to the node it runs on.
    /// </summary>
    public IEnumerable<List<int>> ByNode(IReadOnlyList<RedisKey> keys)
    {
        if (!IsCluster)
        {
            yield return Enumerable.Range(0, keys.Count).ToList();
            yield break;
        }
        var groups = new Dictionary<System.Net.EndPoint, List<int>>();
        for (int i = 0; i < keys.Count; i++)
        {
            var node = Multiplexer.GetServer(keys[i]).EndPoint;
            if (!groups.TryGetValue(node, out var list)) groups[node] = list = [];
            list.Add(i);
        }
        foreach (var g in groups.Values) yield return g;
    }

    /// <summary>The client options of <paramref name="uri"/>; throws <see cref="FormatException"/> naming what is wrong (never the password).</summary>
    public static (ConfigurationOptions Options, int Database, string Display, bool KeyTtl, TimeSpan? RetryFor) Parse(string uri)
    {
        bool tls = uri.StartsWith("rediss://", StringComparison.Ordinal);
        if (!tls && !uri.StartsWith("redis://", StringComparison.Ordinal))
            throw new FormatException("a Redis URI starts with redis:// (redis://[user:password@]host:port[,host:port...][/db][?tls=true])");
        var rest = uri[(tls ? "rediss://" : "redis://").Length..];
        string query = "";
        if (rest.IndexOf('?', StringComparison.Ordinal) is var q and >= 0) (rest, query) = (rest[..q], rest[(q + 1)..]);
        string path = "";
        if (rest.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0) (rest, path) = (rest[..slash], rest[(slash + 1)..]);
        string? userInfo = null;
        if (rest.LastIndexOf('@') is var at and >= 0) (userInfo, rest) = (rest[..at], rest[(at + 1)..]);
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false, // connect in the background and reconnect after a restart; writes retry meanwhile
            ConnectTimeout = 5000,
            SyncTimeout = 10000,
            AsyncTimeout = 10000,
            Ssl = tls,
        };
        var hosts = new List<string>();
        foreach (var part in rest.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0) throw new FormatException("not a Redis URI: a host is empty (redis://host:port[,host:port...])");
            int colon = part.LastIndexOf(':');
            string host = colon > 0 && !part.EndsWith(']') ? part[..colon] : part;
            int port = 6379;
            if (colon > 0 && !part.EndsWith(']') && !int.TryParse(part[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port))
                throw new FormatException($"not a Redis URI: '{part}' is not host:port");
            if (host.Length == 0 || host.Contains('/', StringComparison.Ordinal)) throw new FormatException($"not a Redis URI: '{part}' is not host:port");
            options.EndPoints.Add(host.Trim('[', ']'), port);
            hosts.Add($"{host}:{port}");
        }
        string auth = "";
        if (userInfo is not null)
        {
            var parts = userInfo.Split(':', 2);
            string user = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                if (user.Length > 0) options.User = user;
                options.Password = Uri.UnescapeDataString(parts[1]);
            }
            else options.Password = user; // redis://password@host, as redis-cli -u reads it
            auth = $"{(options.User is null ? "" : options.User + ":")}***@";
        }
        string display = $"{(tls ? "rediss" : "redis")}://{auth}{string.Join(",", hosts)}";
        int db = 0;
        path = path.Trim('/');
        if (path.Length > 0 && !int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out db))
            throw new FormatException($"{display}: the path names a database number, got '{path}'");
        if (db != 0) display += "/" + db;
        bool keyTtl = false;
        TimeSpan? retryFor = null;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "true");
            if (key == "retry_for")
            {
                // How long work is retried through an outage before the run fails: whole seconds.
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) || seconds < 1)
                    throw new FormatException($"{display}: option retry_for takes a whole number of seconds (at least 1), got '{value}'");
                retryFor = TimeSpan.FromSeconds(seconds);
                continue;
            }
            bool on = value switch
            {
                "true" or "1" => true,
                "false" or "0" => false,
                _ => throw new FormatException($"{display}: option {key} takes true or false, got '{value}'"),
            };
            switch (key)
            {
                case "tls" or "ssl":
                    options.Ssl = on;
                    break;
                case "key_ttl":
                    keyTtl = on;
                    break;
                default:
                    throw new FormatException($"{display}: unknown option '{key}' (known: tls, key_ttl, retry_for)");
            }
        }
        var shown = new List<string>();
        if (options.Ssl && !tls) shown.Add("tls=true");
        if (keyTtl) shown.Add("key_ttl=true");
        if (retryFor is { } r) shown.Add($"retry_for={r.TotalSeconds:F0}");
        if (shown.Count > 0) display += "?" + string.Join("&", shown);
        return (options, db, display, keyTtl, retryFor);
    }

    /// <summary>Connects to <paramref name="uri"/>; a server that is down now is retried in the background.</summary>
    public static async Task<RedisConnection> ConnectAsync(string uri, TimeSpan? giveUpAfter = null)
    {
        var (options, db, display, keyTtl, retryFor) = Parse(uri);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        return new RedisConnection(multiplexer, db, display, keyTtl) { GiveUpAfter = giveUpAfter ?? retryFor ?? TimeSpan.FromMinutes(2) };
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Health.Dispose();
        await Multiplexer.DisposeAsync();
    }
}
