using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Graph;

/// <summary>What a graph run did: messages read, time taken, and the outcome counts of each resolver.</summary>
internal sealed record GraphResult(long Messages, double Seconds, IReadOnlyDictionary<string, OutcomeCounts> Resolvers)
{
    /// <summary>Per-block metrics, in graph order.</summary>
    public IReadOnlyList<BlockMetrics> Blocks { get; init; } = [];

    /// <summary>The committable next offset per (topic, partition) once every target acknowledged (what a live source commits).</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> Committed { get; init; } = new Dictionary<(string, int), long>();
}

/// <summary>A block failed: which block, on which messages, and the original exception as the inner one.</summary>
public sealed class GraphFaultException(string block, string positions, Exception inner)
    : Exception($"block '{block}' failed on messages {positions}: {inner.Message}", inner)
{
    /// <summary>The failed block.</summary>
    public string Block { get; } = block;
    /// <summary>The source positions of the batch it was working on (first..last).</summary>
    public string Positions { get; } = positions;
}
