namespace Sluice.Pipeline.Graph.Blocks;

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
