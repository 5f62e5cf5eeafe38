using System.Diagnostics;

namespace Sluice.Pipeline.Graph;

/// <summary>What one block of the graph did: rows in and out, time busy, and its input queue depth as sampled.</summary>
public sealed class BlockMetrics
{
    private long _rowsIn, _rowsOut, _busyTicks, _queueSamples, _queueSum, _queueMax;
    private readonly Func<int> _queueDepth;

    internal BlockMetrics(string name, int parallelism, Func<int> queueDepth)
    {
        Name = name;
        Parallelism = parallelism;
        _queueDepth = queueDepth;
    }

    /// <summary>The block's name: <c>&lt;resolver&gt;/&lt;stage&gt;</c>, or the stage for blocks shared by all resolvers.</summary>
    public string Name { get; }
    /// <summary>Its degree of parallelism.</summary>
    public int Parallelism { get; }
    /// <summary>Rows (messages or feature rows) taken in.</summary>
    public long RowsIn => Interlocked.Read(ref _rowsIn);
    /// <summary>Rows passed on.</summary>
    public long RowsOut => Interlocked.Read(ref _rowsOut);
    /// <summary>Time spent working, summed over its parallel workers.</summary>
    public TimeSpan Busy => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _busyTicks));
    /// <summary>Mean sampled input queue depth (batches).</summary>
    public double QueueDepthMean => _queueSamples == 0 ? 0 : (double)_queueSum / _queueSamples;
    /// <summary>Largest sampled input queue depth (batches).</summary>
    public long QueueDepthMax => _queueMax;

    /// <summary>Runs one unit of work, counting its rows and time.</summary>
    internal async Task<T> MeasureAsync<T>(long rowsIn, Func<Task<T>> work, Func<T, long> rowsOut)
    {
        long start = Stopwatch.GetTimestamp();
        var result = await work();
        Record(start, rowsIn, rowsOut(result));
        return result;
    }

    /// <summary>Runs one unit of synchronous work, counting its rows and time.</summary>
    internal T Measure<T>(long rowsIn, Func<T> work, Func<T, long> rowsOut)
    {
        long start = Stopwatch.GetTimestamp();
        var result = work();
        Record(start, rowsIn, rowsOut(result));
        return result;
    }

    private void Record(long start, long rowsIn, long rowsOut)
    {
        Interlocked.Add(ref _busyTicks, Stopwatch.GetTimestamp() - start);
        Interlocked.Add(ref _rowsIn, rowsIn);
        Interlocked.Add(ref _rowsOut, rowsOut);
    }

    /// <summary>Its input queue depth now (batches).</summary>
    public int QueueDepth => _queueDepth();

    internal void Sample()
    {
        long depth = _queueDepth();
        _queueSamples++;
        _queueSum += depth;
        if (depth > _queueMax) _queueMax = depth;
    }
}
