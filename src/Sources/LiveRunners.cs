using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;

namespace Sluice.Sources;

/// <summary>What the Kafka, Kinesis and Pub/Sub runners share: which resolvers they serve, and running one graph per resolver.</summary>
internal static class LiveRunners
{
    /// <summary>The resolvers of <paramref name="definitions"/> whose source is of <paramref name="kind"/> and that run in <paramref name="environment"/>.</summary>
    public static IReadOnlyList<ResolverPlan> Resolvers(CompiledDefinitions definitions, string kind, string? environment, IReadOnlyCollection<string>? only) =>
        definitions.Resolvers.Where(r => r.Source.Kind.Value == kind && r.RunsIn(environment) && (only is null || only.Contains(r.Name))).ToList();

    /// <summary>
    /// Runs <paramref name="runOne"/> for every resolver at once; the first that fails stops the others (through the token
    /// it is given) and its fault is rethrown. Returns each resolver's outcome counts.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, OutcomeCounts>> RunEachAsync(IReadOnlyList<ResolverPlan> plans, string what, string? environment,
        Func<ResolverPlan, CancellationToken, Task<OutcomeCounts>> runOne, CancellationToken stop)
    {
        if (plans.Count == 0) throw new InvalidOperationException($"no {what} resolver to run" + (environment is null ? "" : $" in environment '{environment}'"));
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var results = await Task.WhenAll(plans.Select(async plan =>
        {
            try
            {
                return (plan.Name, Counts: await runOne(plan, stopAll.Token));
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
