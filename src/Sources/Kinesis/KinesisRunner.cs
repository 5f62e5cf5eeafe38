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
        definitions.Resolvers.Where(r => r.Source.Kind.Value == "kinesis" && r.RunsIn(environment) && (only is null || only.Contains(r.Name))).ToList();

    /// <summary>Runs the resolvers; returns each one's outcome counts.</summary>
    public static async Task<IReadOnlyDictionary<string, OutcomeCounts>> RunAsync(CompiledDefinitions definitions, GraphOptions options,
        KinesisSourceOptions sourceOptions, Action<string, long, OutcomeCounts>? progress = null, CancellationToken stop = default)
    {
        var plans = Resolvers(definitions, options.Environment, options.Resolvers);
        if (plans.Count == 0) throw new InvalidOperationException("no Kinesis resolver to run" + (options.Environment is null ? "" : $" in environment '{options.Environment}'"));
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var results = await Task.WhenAll(plans.Select(async plan =>
        {
            try
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
                var result = await StreamGraph.RunAsync(definitions, source.ReadAsync(stopAll.Token), graphOptions,
                    progress is null ? null : (messages, counts) => progress(plan.Name, messages, counts[plan.Name]), CancellationToken.None);
                return (plan.Name, Counts: result.Resolvers[plan.Name]);
            }
            catch
            {
                await stopAll.CancelAsync();
                throw;
            }
        }));
        return results.ToDictionary(r => r.Name, r => r.Counts, StringComparer.Ordinal);
    }
}
