namespace Sluice.Pipeline.Contracts;

/// <summary>
/// A kind of online store, chosen by its URI (<c>sqlite:PATH</c>, <c>redis://host:port</c>): it parses its own URIs,
/// so that every command and the C# API open stores the same way.
/// </summary>
public interface IOnlineStoreKind
{
    /// <summary>The URI forms it takes, for help texts (<c>sqlite:PATH</c>).</summary>
    string Usage { get; }
    /// <summary>Whether <paramref name="uri"/> is one of its URIs.</summary>
    bool Accepts(string uri);
    /// <summary>The URI as messages may show it (never a password); throws <see cref="FormatException"/> naming what is wrong.</summary>
    string Display(string uri);
    /// <summary>Opens the store; <paramref name="options"/> say how long to retry an unreachable server.</summary>
    Task<IOnlineStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default);
    /// <summary>Whether the store at <paramref name="uri"/> exists (a file store that was never written does not).</summary>
    bool Exists(string uri);
    /// <summary>The dedup store that goes with it when none is named (beside it: a file next to it, the same server).</summary>
    string DefaultDedup(string uri);
}

/// <summary>A kind of dedup store, chosen by its URI (<c>sqlite:PATH</c>, <c>memory</c>, <c>redis://</c>, <c>dynamodb://</c>).</summary>
public interface IDedupStoreKind
{
    /// <summary>The URI forms it takes, for help texts.</summary>
    string Usage { get; }
    /// <summary>Whether <paramref name="uri"/> is one of its URIs.</summary>
    bool Accepts(string uri);
    /// <summary>Opens the store.</summary>
    Task<IDedupStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default);
}

/// <summary>Opens an offline store writing under <paramref name="directory"/>; its segments close at least every <paramref name="maxAge"/>.</summary>
public delegate IOfflineStore OfflineStoreFactory(string directory, TimeSpan maxAge);

/// <summary>How a store is opened.</summary>
public sealed record StoreOpenOptions
{
    /// <summary>How long work against an unreachable server is retried before it fails (a short read gives up sooner).</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromMinutes(2);
}
