using StackExchange.Redis;

namespace Sluice.Clients;

/// <summary>
/// A Redis connection from a store URI <c>redis://[user:password@]host:port[/db][?tls=true]</c>. The password goes to
/// the client and nowhere else: <see cref="Display"/> (what messages show) never holds it.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private RedisConnection(ConnectionMultiplexer multiplexer, int database, string display)
    {
        Multiplexer = multiplexer;
        Database = multiplexer.GetDatabase(database);
        Display = display;
    }

    /// <summary>The client.</summary>
    public ConnectionMultiplexer Multiplexer { get; }
    /// <summary>The database the URI names (0 by default).</summary>
    public IDatabase Database { get; }
    /// <summary>The URI without its password, for messages.</summary>
    public string Display { get; }
    /// <summary>How long work is retried through connection loss before it fails (the graph then faults).</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The client options of <paramref name="uri"/>; throws <see cref="FormatException"/> naming what is wrong (never the password).</summary>
    public static (ConfigurationOptions Options, int Database, string Display) Parse(string uri)
    {
        if (!uri.StartsWith("redis://", StringComparison.Ordinal) && !uri.StartsWith("rediss://", StringComparison.Ordinal))
            throw new FormatException("a Redis URI starts with redis:// (redis://[user:password@]host:port[/db][?tls=true])");
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || string.IsNullOrEmpty(u.Host))
            throw new FormatException("not a Redis URI: expected redis://[user:password@]host:port[/db][?tls=true]");
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false, // connect in the background and reconnect after a restart; writes retry meanwhile
            ConnectTimeout = 5000,
            SyncTimeout = 10000,
            AsyncTimeout = 10000,
            Ssl = u.Scheme == "rediss",
        };
        options.EndPoints.Add(u.Host, u.Port > 0 ? u.Port : 6379);
        string display = $"redis://{u.Host}:{(u.Port > 0 ? u.Port : 6379)}";
        if (u.UserInfo.Length > 0)
        {
            var parts = u.UserInfo.Split(':', 2);
            string user = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                if (user.Length > 0) options.User = user;
                options.Password = Uri.UnescapeDataString(parts[1]);
            }
            else options.Password = user; // redis://password@host, as redis-cli -u reads it
            display = $"redis://{(options.User is null ? "" : options.User + ":")}***@{u.Host}:{(u.Port > 0 ? u.Port : 6379)}";
        }
        int db = 0;
        var path = u.AbsolutePath.Trim('/');
        if (path.Length > 0 && !int.TryParse(path, System.Globalization.CultureInfo.InvariantCulture, out db))
            throw new FormatException($"{display}: the path names a database number, got '{path}'");
        if (db != 0) display += "/" + db;
        foreach (var pair in u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "true");
            switch (key)
            {
                case "tls" or "ssl":
                    options.Ssl = value is "true" or "1";
                    break;
                default:
                    throw new FormatException($"{display}: unknown option '{key}' (known: tls)");
            }
        }
        if (options.Ssl) display += "?tls=true";
        return (options, db, display);
    }

    /// <summary>Connects to <paramref name="uri"/>; a server that is down now is retried in the background.</summary>
    public static async Task<RedisConnection> ConnectAsync(string uri, TimeSpan? giveUpAfter = null)
    {
        var (options, db, display) = Parse(uri);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        return new RedisConnection(multiplexer, db, display) { GiveUpAfter = giveUpAfter ?? TimeSpan.FromMinutes(2) };
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await Multiplexer.DisposeAsync();
}
