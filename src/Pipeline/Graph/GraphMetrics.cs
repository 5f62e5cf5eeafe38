
using Sluice.Pipeline.Observability;

namespace Sluice.Pipeline.Graph;

/// <summary>The metrics of every block of a graph run, in graph order, sampled on a timer while it runs.</summary>
internal sealed class GraphMetrics : IDisposable
{
    private readonly List<BlockMetrics> _blocks = [];
    private readonly Timer _sampler;

    private readonly IDisposable _gauge;

    internal GraphMetrics(TimeSpan sampleEvery)
    {
        _sampler = new Timer(_ => { lock (_blocks) foreach (var b in _blocks) b.Sample(); }, null, sampleEvery, sampleEvery);
        _gauge = SluiceMetrics.Observe(SluiceMetrics.Gauge.QueueDepth, () =>
        {
            lock (_blocks) return _blocks.Select(b => new System.Diagnostics.Metrics.Measurement<long>(b.QueueDepth, new KeyValuePair<string, object?>("block", b.Name))).ToList();
        });
    }

    /// <summary>The blocks, in graph order.</summary>
    public IReadOnlyList<BlockMetrics> Blocks { get { lock (_blocks) return _blocks.ToList(); } }

    internal BlockMetrics Add(string name, int parallelism, Func<int> queueDepth)
    {
        var m = new BlockMetrics(name, parallelism, queueDepth);
        lock (_blocks) _blocks.Add(m);
        return m;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _sampler.Dispose();
        _gauge.Dispose();
    }
}
