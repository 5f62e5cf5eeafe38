using System.Threading.Tasks.Dataflow;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>What every writer block shares: bounded, one worker, its rows and busy time measured under its name.</summary>
internal static class Writers
{
    /// <summary>A writer block; <paramref name="work"/> returns its rows out, <paramref name="rowsIn"/> counts its rows in (feature rows by default).</summary>
    public static ActionBlock<WriterInput> Create(string name, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded, Func<WriterInput, Task<long>> work,
        Func<WriterInput, long>? rowsIn = null)
    {
        ActionBlock<WriterInput>? block = null;
        var m = metrics.Add(name, 1, () => block?.InputCount ?? 0);
        rowsIn ??= x => x.Batch?.Features.Length ?? 0;
        return block = new ActionBlock<WriterInput>(x => m.MeasureAsync(rowsIn(x), () => work(x), n => n), bounded);
    }
}

/// <summary>Whether a flush waits: writers then commit and close at once instead of when due.</summary>
internal sealed class FlushSignal
{
    private int _waiting;

    /// <summary>Whether a flush request is waiting (read from any thread).</summary>
    public bool Requested => Volatile.Read(ref _waiting) > 0;

    /// <summary>Raises the signal until the returned scope is disposed.</summary>
    public Scope Begin()
    {
        Interlocked.Increment(ref _waiting);
        return new Scope(this);
    }

    public readonly struct Scope(FlushSignal signal) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref signal._waiting);
    }
}
