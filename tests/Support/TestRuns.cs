using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Runtime;

namespace Sluice.TestSupport;

/// <summary>Runs definitions through the runtime the way <c>sluice run</c> does, with every store under one folder.</summary>
internal static class TestRuns
{
    /// <summary>
    /// Runtime options writing under <paramref name="directory"/>: <c>online.db</c> (dedup beside it in
    /// <c>online.dedup.db</c>), <c>offline/</c>, <c>sinks/</c>, <c>dead.jsonl</c> (Kinesis checkpoints beside it).
    /// </summary>
    public static RuntimeOptions In(string directory, params string[] resolvers) => new()
    {
        Online = "sqlite:" + Path.Combine(directory, "online.db"),
        OfflineDirectory = Path.Combine(directory, "offline"),
        SinkDirectory = Path.Combine(directory, "sinks"),
        DeadLetterPath = Path.Combine(directory, "dead.jsonl"),
        Resolvers = resolvers.Length == 0 ? null : resolvers,
    };

    /// <summary>Runs and returns each resolver's outcome counts.</summary>
    public static async Task<IReadOnlyDictionary<string, OutcomeCounts>> RunAsync(CompiledDefinitions definitions, RuntimeOptions options,
        Connectors? connectors = null, CancellationToken stop = default) =>
        (await PipelineRuntime.RunAsync(definitions, connectors ?? TestDefinitions.Connectors, options, stop)).Resolvers;
}
