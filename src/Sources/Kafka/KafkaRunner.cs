using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Stores;

namespace Sluice.Sources.Kafka;

/// <summary>
/// Serves the Kafka resolvers of a definition file (what <c>sluice run</c> does): one consumer and one block graph per
/// resolver, each in the resolver's own consumer group, so that several resolvers read one topic independently. Runs
/// until <c>stop</c> is cancelled or every source has been idle for <see cref="KafkaSourceOptions.IdleExit"/>; then
/// each graph drains and its consumer commits everything acknowledged before leaving its group. A failing graph stops
/// the others and its fault is rethrown (nothing unacknowledged is committed).
/// </summary>
public static class KafkaRunner
{
    /// <summary>The Kafka resolvers of <paramref name="definitions"/> that run in <paramref name="environment"/>.</summary>
    public static IReadOnlyList<ResolverPlan> Resolvers(CompiledDefinitions definitions, string? environment, IReadOnlyCollection<string>? only = null) =>
        LiveRunners.Resolvers(definitions, "kafka", environment, only);

    /// <summary>
    /// Runs the resolvers; returns each one's outcome counts. <c>progress</c> hears (resolver, messages, counts) as they
    /// go; <c>warn</c> hears what went wrong without stopping the run (offset commits the broker refused).
    /// </summary>
    public static Task<IReadOnlyDictionary<string, OutcomeCounts>> RunAsync(CompiledDefinitions definitions, GraphOptions options,
        KafkaSourceOptions sourceOptions, Action<string, long, OutcomeCounts>? progress = null, Action<string>? warn = null, CancellationToken stop = default) =>
        LiveRunners.RunEachAsync(Resolvers(definitions, options.Environment, options.Resolvers), "Kafka", options.Environment,
            (plan, ct) => RunOneAsync(definitions, plan, options, sourceOptions, progress, warn, ct), stop);

    private static async Task<OutcomeCounts> RunOneAsync(CompiledDefinitions definitions, ResolverPlan plan, GraphOptions options,
        KafkaSourceOptions sourceOptions, Action<string, long, OutcomeCounts>? progress, Action<string>? warn, CancellationToken stop)
    {
        await using var source = new KafkaSource(plan, sourceOptions);
        await using var sink = new KafkaSink(definitions, new FileSink(options.SinkDirectory));
        await using var deadLetters = new KafkaDeadLetters(new FileDeadLetters(options.DeadLetterPath));
        var graphOptions = options with
        {
            Resolvers = [plan.Name],
            Committed = source.Committable,
            Clock = options.Clock ?? TimeProvider.System,
            Linger = TimeSpan.Zero, // the source lingers; what it hands on is due
            BatchSize = sourceOptions.BatchSize,
            Sink = sink,
            DeadLetters = deadLetters,
        };
        var result = await StreamGraph.RunAsync(definitions, source.ReadAsync(stop), graphOptions,
            progress is null ? null : (messages, counts) => progress(plan.Name, messages, counts[plan.Name]), CancellationToken.None);
        if (source.Fault is { } fault) throw new InvalidOperationException($"resolver {plan.Name}: the Kafka consumer failed: {fault.Message}", fault);
        if (source.FailedCommits > 0)
            warn?.Invoke($"resolver {plan.Name}: the broker refused {source.FailedCommits} offset commit(s) (last: {source.LastCommitError}); "
                + "they were retried, and a partition that moved meanwhile is read again from its last commit by its next owner");
        return result.Resolvers[plan.Name];
    }
}
