using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Graph;

/// <summary>What a writer block takes: a delivery, or (no delivery) a tick that lets it commit or close what is due.</summary>
internal readonly record struct WriterInput(Delivery? Delivery, ResolvedBatch? Batch)
{
    /// <summary>A tick: nothing to write, only time passing (or a flush waiting).</summary>
    public static WriterInput Tick => default;
    /// <summary>Whether this is a tick.</summary>
    public bool IsTick => Batch is null;
}
