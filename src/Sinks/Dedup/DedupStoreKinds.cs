using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary><c>memory</c>: claims held for the process's lifetime (<see cref="InMemoryDedupStore"/>).</summary>
public sealed class MemoryDedupStoreKind : IDedupStoreKind
{
    /// <inheritdoc/>
    public string Usage => "memory";
    /// <inheritdoc/>
    public bool Accepts(string uri) => uri == "memory";
    /// <inheritdoc/>
    public Task<IDedupStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default) =>
        Task.FromResult<IDedupStore>(new InMemoryDedupStore());
}

/// <summary><c>sqlite:PATH</c>: claims in a SQLite file (<see cref="SqliteDedupStore"/>).</summary>
public sealed class SqliteDedupStoreKind : IDedupStoreKind
{
    /// <inheritdoc/>
    public string Usage => "sqlite:PATH";
    /// <inheritdoc/>
    public bool Accepts(string uri) => uri.StartsWith("sqlite:", StringComparison.Ordinal) && uri.Length > "sqlite:".Length;
    /// <inheritdoc/>
    public async Task<IDedupStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default) =>
        await SqliteDedupStore.OpenAsync(uri["sqlite:".Length..], cancellationToken);
}

/// <summary><c>redis://host:port</c>: claims on a Redis server (<see cref="RedisDedupStore"/>).</summary>
public sealed class RedisDedupStoreKind : IDedupStoreKind
{
    /// <inheritdoc/>
    public string Usage => "redis://host:port";
    /// <inheritdoc/>
    public bool Accepts(string uri) => uri.StartsWith("redis://", StringComparison.Ordinal) || uri.StartsWith("rediss://", StringComparison.Ordinal);
    /// <inheritdoc/>
    public async Task<IDedupStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default) =>
        await RedisDedupStore.OpenAsync(uri);
}

/// <summary><c>dynamodb://HOST:PORT/TABLE</c> (DynamoDB Local, dynalite) or <c>dynamodb:///TABLE?region=R</c> (AWS): claims as conditional puts (<see cref="DynamoDedupStore"/>).</summary>
public sealed class DynamoDedupStoreKind : IDedupStoreKind
{
    /// <inheritdoc/>
    public string Usage => "dynamodb://HOST:PORT/TABLE";
    /// <inheritdoc/>
    public bool Accepts(string uri) => uri.StartsWith("dynamodb://", StringComparison.Ordinal);
    /// <inheritdoc/>
    public async Task<IDedupStore> OpenAsync(string uri, StoreOpenOptions options, CancellationToken cancellationToken = default) =>
        await DynamoDedupStore.OpenAsync(uri, cancellationToken);
}
