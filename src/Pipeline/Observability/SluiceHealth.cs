using System.Collections.Concurrent;

namespace Sluice.Pipeline.Observability;

/// <summary>
/// Readiness of a running pipeline: each source and store registers a component and says when it is ready (a source
/// assigned or connected, a store that answered) and when it is not (a store unreachable). The process is ready when a
/// source registered and every registered component is ready.
/// </summary>
public static class SluiceHealth
{
    private static readonly ConcurrentDictionary<Component, byte> Components = new();

    /// <summary>One source or store; disposing it removes it.</summary>
    public sealed class Component : IDisposable
    {
        private volatile string? _notReady;

        internal Component(bool isSource, string name, string notReady)
        {
            IsSource = isSource;
            Name = name;
            _notReady = notReady;
        }

        /// <summary>Whether it is a source (a pipeline is not ready before its sources are).</summary>
        public bool IsSource { get; }

        /// <summary>What it is: <c>source &lt;name&gt;</c>, <c>store online</c>, ...</summary>
        public string Name { get; }

        /// <summary>Null when ready; else why not.</summary>
        public string? NotReady => _notReady;

        /// <summary>It is ready.</summary>
        public void Ready() => _notReady = null;

        /// <summary>It is not ready, because <paramref name="why"/>.</summary>
        public void NotReadyBecause(string why) => _notReady = why;

        /// <inheritdoc/>
        public void Dispose() => Components.TryRemove(this, out _);
    }

    /// <summary>Registers source <paramref name="name"/>, not ready until it says so.</summary>
    public static Component Source(string name, string notReady = "starting") => Register(true, name, notReady);

    /// <summary>Registers store <paramref name="name"/>, not ready until it says so.</summary>
    public static Component Store(string name, string notReady = "connecting") => Register(false, name, notReady);

    private static Component Register(bool isSource, string name, string notReady)
    {
        var c = new Component(isSource, name, notReady);
        Components[c] = 0;
        return c;
    }

    /// <summary>Whether a source registered and everything registered is ready, with each component's state.</summary>
    public static (bool Ready, IReadOnlyList<(string Name, string? NotReady)> Components) Check()
    {
        var registered = Components.Keys.ToList();
        var all = registered.Select(c => (c.Name, c.NotReady)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        return (registered.Any(c => c.IsSource) && all.All(c => c.NotReady is null), all);
    }
}
