using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;

namespace Sluice.Pipeline.Runtime;

/// <summary>What a run did: messages read, time taken, each resolver's outcome counts, and each graph's block metrics.</summary>
public sealed record RunResult(long Messages, double Seconds, IReadOnlyDictionary<string, OutcomeCounts> Resolvers)
{
    /// <summary>The metrics of every block of every graph (a replay runs one graph).</summary>
    public IReadOnlyList<BlockMetrics> Blocks { get; init; } = [];
    /// <summary>The acknowledged next offset per (topic, partition) of every graph.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> Committed { get; init; } = new Dictionary<(string, int), long>();
}
