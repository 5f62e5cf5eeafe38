using Sluice.Pipeline.Contracts;

namespace Sluice.Pipeline.Runtime;

/// <summary>The online and dedup stores of a run: the ones given, or opened from their URIs (and then disposed with the run).</summary>
internal sealed class RunStores : IAsyncDisposable
{
    private readonly IOnlineStore? _ownOnline;
    private readonly IDedupStore? _ownDedup;

    private RunStores(IOnlineStore online, IDedupStore dedup, IOnlineStore? ownOnline, IDedupStore? ownDedup)
    {
        Online = online;
        Dedup = dedup;
        _ownOnline = ownOnline;
        _ownDedup = ownDedup;
    }

    public IOnlineStore Online { get; }
    public IDedupStore Dedup { get; }

    /// <summary>
    /// Opens what <paramref name="options"/> name. Without a dedup URI, dedup goes beside the online store (a file next
    /// to the SQLite one, the same Redis server), or to memory when the online store was given as an object.
    /// </summary>
    public static async Task<RunStores> OpenAsync(Connectors connectors, RuntimeOptions options, CancellationToken ct)
    {
        IOnlineStore? ownOnline = null;
        try
        {
            var onlineUri = options.OnlineStore is null ? options.Online ?? throw new RunSetupException("no online store: give its URI or the store") : null;
            var online = options.OnlineStore ?? (ownOnline = await Open(() => connectors.OnlineStore(onlineUri!).OpenAsync(onlineUri!, new StoreOpenOptions(), ct), "online"));
            if (options.DedupStore is { } given) return new RunStores(online, given, ownOnline, null);
            var uri = options.Dedup ?? (onlineUri is not null ? Kind(() => connectors.OnlineStore(onlineUri), "online").DefaultDedup(onlineUri) : "memory");
            var dedup = await Open(() => connectors.DedupStore(uri).OpenAsync(uri, new StoreOpenOptions(), ct), "dedup");
            return new RunStores(online, dedup, ownOnline, dedup);
        }
        catch
        {
            if (ownOnline is not null) await ownOnline.DisposeAsync();
            throw;
        }
    }

    private static T Kind<T>(Func<T> find, string role)
    {
        try { return find(); }
        catch (FormatException e) { throw new RunSetupException($"{role} store: {e.Message}", e); }
    }

    // Opening fails for many reasons (a wrong URI, an unreachable server, a folder that cannot be written): each is a
    // run that cannot start as asked.
    private static async Task<T> Open<T>(Func<Task<T>> open, string role)
    {
        try { return await open(); }
        catch (Exception e) when (e is not OperationCanceledException) { throw new RunSetupException($"{role} store: {e.Message}", e); }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownDedup is not null) await _ownDedup.DisposeAsync();
        if (_ownOnline is not null) await _ownOnline.DisposeAsync();
    }
}
