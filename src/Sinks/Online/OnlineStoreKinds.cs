using Sluice.Clients;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary><c>sqlite:PATH</c>: the embedded online store (<see cref="SqliteOnlineStore"/>); its dedup store is <c>PATH</c> with <c>.dedup.db</c> for <c>.db</c>.</summary>
public sealed class SqliteOnlineStoreKind : IOnlineStoreKind
{
    private const string Scheme = "sqlite:";

    /// <inheritdoc/>
    public string Usage => "sqlite:PATH";

    /// <inheritdoc/>
    public bool Accepts(string uri) => uri.StartsWith(Scheme, StringComparison.Ordinal);

    /// <inheritdoc/>
    public string Display(string uri)
    {
        _ = Path(uri); // throws when there is none
        return uri;
    }

    /// <inheritdoc/>
    public async Task<IOnlineStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default) =>
        await SqliteOnlineStore.OpenAsync(Path(uri), cancellationToken: cancellationToken);

    /// <inheritdoc/>
    public bool Exists(string uri) => File.Exists(Path(uri));

    /// <inheritdoc/>
    public string DefaultDedup(string uri)
    {
        var path = Path(uri);
        return Scheme + System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path) ?? "", System.IO.Path.GetFileNameWithoutExtension(path) + ".dedup.db");
    }

    private static string Path(string uri) => uri.Length > Scheme.Length ? uri[Scheme.Length..]
        : throw new FormatException("sqlite: needs a path (sqlite:.sluice/online.db)");
}

/// <summary>
/// <c>redis://[user:password@]host:port[/db][?tls=true]</c> (<c>rediss://</c> for TLS): the online store on Redis
/// (<see cref="RedisOnlineStore"/>); its dedup store is the same server. The password never appears in any output.
/// </summary>
public sealed class RedisOnlineStoreKind : IOnlineStoreKind
{
    /// <inheritdoc/>
    public string Usage => "redis://host:port";

    /// <inheritdoc/>
    public bool Accepts(string uri) => uri.StartsWith("redis://", StringComparison.Ordinal) || uri.StartsWith("rediss://", StringComparison.Ordinal);

    /// <inheritdoc/>
    public string Display(string uri) => RedisConnection.Parse(uri).Display;

    /// <inheritdoc/>
    public async Task<IOnlineStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default) =>
        await RedisOnlineStore.OpenAsync(uri, giveUpAfter: options.RetryFor);

    /// <inheritdoc/>
    public bool Exists(string uri) => true;

    /// <inheritdoc/>
    public string DefaultDedup(string uri) => uri;
}
