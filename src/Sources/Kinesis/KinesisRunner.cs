using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Stores;
using Sluice.Sources.Kafka;

namespace Sluice.Sources.Kinesis;

/// <summary>
/// Serves the Kinesis resolvers of a definition file: one source (all shards) and one block graph per resolver, each
/// with its own checkpoints, until <c>stop</c> or idle exit; then each graph drains and its last checkpoints are written.
/// </summary>
public static class KinesisRunner
{
    /// <summary>The Kinesis resolvers of <paramref name="definitions"/> that run in <paramref name="environment"/>.</summary>
    public static IReadOnlyList<ResolverPlan> Resolvers(CompiledDefinitions definitions, string? environment, IReadOnlyCollection<string>? only = null) =>
        LiveRunners.Resolvers(definitions, "kinesis", environment, only);

    /// <summary>Runs the resolvers; returns each one's outcome counts.</summary>
    public static Task<IReadOnlyDictionary<string, OutcomeCounts>> RunAsync(CompiledDefinitions definitions, GraphOptions options,
        KinesisSourceOptions sourceOptions, Action<string, long, OutcomeCounts>? progress = null, CancellationToken stop = default) =>
        LiveRunners.RunEachAsync(Resolvers(definitions, options.Environment, options.Resolvers), "Kinesis", options.Environment, async (plan, ct) =>
        {
            await using var source = new KinesisSource(plan, sourceOptions);
            await using var sink = new KinesisSink(definitions, new KafkaSink(definitions, new FileSink(options.SinkDirectory)));
            await using var deadLetters = new KinesisDeadLetters(new FileDeadLetters(options.DeadLetterPath));
            var graphOptions = options with
            {
                Resolvers = [plan.Name],
                Committed = source.Committable,
                Clock = options.Clock ?? TimeProvider.System,
                Linger = TimeSpan.Zero, // the source hands on whole GetRecords pages; what it hands on is due
                Sink = sink,
                DeadLetters = deadLetters,
            };
            var result = await StreamGraph.RunAsync(definitions, source.ReadAsync(ct), graphOptions,
                progress is null ? null : (messages, counts) => progress(plan.Name, messages, counts[plan.Name]), CancellationToken.None);
            return result.Resolvers[plan.Name];
        }, stop);
}
