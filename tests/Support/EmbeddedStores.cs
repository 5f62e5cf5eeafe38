using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Graph;
using Sluice.Sinks;

namespace Sluice.TestSupport;

/// <summary>
/// The embedded stores and file targets under one folder, opened for a graph test: SQLite online store, in-memory dedup,
/// Parquet offline store (optional), sink files and the dead-letter file. Disposing closes what it opened.
/// </summary>
internal sealed class EmbeddedStores : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private EmbeddedStores() { }

    /// <summary>Graph options over these stores (tune with <c>with</c>).</summary>
    public GraphOptions Options { get; private set; } = null!;

    /// <summary>
    /// Opens <c>online.db</c> in <paramref name="directory"/> (unless <paramref name="online"/> is given), the offline
    /// store in <paramref name="offline"/> under it (none when null), <c>sinks/</c> and <c>dead.jsonl</c>.
    /// </summary>
    public static async Task<EmbeddedStores> OpenAsync(string directory, string? offline = "offline", IOnlineStore? online = null, IDedupStore? dedup = null,
        TimeSpan? offlineFileAge = null, long? offlineFileRows = null)
    {
        var stores = new EmbeddedStores();
        T Own<T>(T x) where T : IAsyncDisposable
        {
            stores._owned.Add(x);
            return x;
        }
        var files = new FileTargets();
        stores.Options = new GraphOptions
        {
            Online = online ?? Own(await SqliteOnlineStore.OpenAsync(Path.Combine(directory, "online.db"))),
            Dedup = dedup ?? Own(new InMemoryDedupStore()),
            Offline = offline is null ? null : Own(new ParquetOfflineStore(Path.Combine(directory, offline))
            {
                MaxFileAge = offlineFileAge ?? TimeSpan.FromMinutes(1),
                MaxRowsPerFile = offlineFileRows ?? 1_000_000,
            }),
            Sink = Own(files.OpenSinks(Path.Combine(directory, "sinks"))),
            DeadLetters = Own(files.OpenDeadLetters(Path.Combine(directory, "dead.jsonl"))),
        };
        return stores;
    }

    /// <summary>Graph options over <paramref name="online"/> and <paramref name="dedup"/> (the caller's), with sink files and the dead-letter file under <paramref name="directory"/> and no offline store.</summary>
    public static EmbeddedStores Over(string directory, IOnlineStore online, IDedupStore dedup)
    {
        var stores = new EmbeddedStores();
        var files = new FileTargets();
        var sink = files.OpenSinks(Path.Combine(directory, "sinks"));
        var deadLetters = files.OpenDeadLetters(Path.Combine(directory, "dead.jsonl"));
        stores._owned.AddRange([sink, deadLetters]);
        stores.Options = new GraphOptions { Online = online, Dedup = dedup, Sink = sink, DeadLetters = deadLetters };
        return stores;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var x in Enumerable.Reverse(_owned)) await x.DisposeAsync();
    }
}
