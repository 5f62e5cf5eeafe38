using System.Collections.Concurrent;

namespace Sluice.Pipeline.Observability;

/// <summary>
/// Readiness of a running pipeline: each source and store registers a component and says when it is ready (a source
/// assigned or connected, a store that answered) and when it is not (a store unreachable). The process is ready when
/// something registered and every registered component is ready.
/// </summary>
public static class SluiceHealth
{
    private static readonly ConcurrentDictionary<Component, byte> Components = new();

    /// <summary>One source or store; disposing it removes it.</summary>
    public sealed class Component : IDisposable
    {
        private volatile string? _notReady;

        internal Component(string name, string notReady)
        {
            Name = name;
            _notReady = notReady;
        }

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

    /// <summary>Registers <paramref name="name"/>, not ready until it says so.</summary>
    public static Component Register(string name, string notReady = "starting")
    {
        var c = new Component(name, notReady);
        Components[c] = 0;
        return c;
    }

    /// <summary>Whether something registered and everything registered is ready, with each component's state.</summary>
    public static (bool Ready, IReadOnlyList<(string Name, string? NotReady)> Components) Check()
    {
        var all = Components.Keys.Select(c => (c.Name, c.NotReady)).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        return (all.Count > 0 && all.All(c => c.NotReady is null), all);
    }
}
