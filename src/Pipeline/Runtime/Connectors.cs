using Sluice.Pipeline.Contracts;

namespace Sluice.Pipeline.Runtime;

/// <summary>
/// Every kind of source, target and store a pipeline may use, by name or URI: what the compiler checks definitions
/// against and what the runtime opens. The concrete kinds live in Sluice.Sources and Sluice.Sinks; the host registers
/// them (<c>Sluice.Hosting</c>: <c>Connectors.Default</c>), one line each. Immutable; <see cref="With(ISourceKind)"/>
/// and its siblings return a copy with one kind replaced or added (tests tune a kind that way).
/// </summary>
public sealed class Connectors
{
    private readonly Dictionary<string, ISourceKind> _sources;
    private readonly Dictionary<string, ITargetKind> _targets;
    private readonly List<IOnlineStoreKind> _online;
    private readonly List<IDedupStoreKind> _dedup;

    /// <summary>The kinds given; <paramref name="offline"/> opens the offline store, <paramref name="files"/> the file targets.</summary>
    public Connectors(IEnumerable<ISourceKind> sources, IEnumerable<ITargetKind> targets, IEnumerable<IOnlineStoreKind> online,
        IEnumerable<IDedupStoreKind> dedup, OfflineStoreFactory offline, IFileTargets files)
    {
        Files = files;
        _sources = sources.ToDictionary(k => k.Name, StringComparer.Ordinal);
        _targets = targets.ToDictionary(k => k.Name, StringComparer.Ordinal);
        _online = [.. online];
        _dedup = [.. dedup];
        Offline = offline;
    }

    /// <summary>The source kinds by name.</summary>
    public IReadOnlyDictionary<string, ISourceKind> Sources => _sources;
    /// <summary>The target kinds by the name of the source kind they write to.</summary>
    public IReadOnlyDictionary<string, ITargetKind> Targets => _targets;
    /// <summary>The online store kinds, in the order URIs are tried.</summary>
    public IReadOnlyList<IOnlineStoreKind> OnlineStores => _online;
    /// <summary>The dedup store kinds, in the order URIs are tried.</summary>
    public IReadOnlyList<IDedupStoreKind> DedupStores => _dedup;
    /// <summary>Opens the offline store.</summary>
    public OfflineStoreFactory Offline { get; }
    /// <summary>Opens the file targets: sink files and the dead-letter file.</summary>
    public IFileTargets Files { get; }

    /// <summary>A copy with <paramref name="kind"/> in place of the source kind of its name.</summary>
    public Connectors With(ISourceKind kind) => new(_sources.Values.Where(k => k.Name != kind.Name).Append(kind), _targets.Values, _online, _dedup, Offline, Files);

    /// <summary>A copy with <paramref name="kind"/> in place of the target kind of its name.</summary>
    public Connectors With(ITargetKind kind) => new(_sources.Values, _targets.Values.Where(k => k.Name != kind.Name).Append(kind), _online, _dedup, Offline, Files);

    /// <summary>The online store kind that takes <paramref name="uri"/>; throws <see cref="FormatException"/> listing the forms when none does.</summary>
    public IOnlineStoreKind OnlineStore(string uri) => _online.FirstOrDefault(k => k.Accepts(uri))
        ?? throw new FormatException($"'{uri}' is not a store URI; use {string.Join(" or ", _online.Select(k => k.Usage))}");

    /// <summary>The dedup store kind that takes <paramref name="uri"/>; throws <see cref="FormatException"/> listing the forms when none does.</summary>
    public IDedupStoreKind DedupStore(string uri) => _dedup.FirstOrDefault(k => k.Accepts(uri))
        ?? throw new FormatException($"'{uri}' is not a dedup store URI; use {string.Join(", ", _dedup.Select(k => k.Usage))}");
}
