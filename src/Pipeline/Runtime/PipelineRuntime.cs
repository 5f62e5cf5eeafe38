using System.Diagnostics;
using System.Runtime.CompilerServices;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;

namespace Sluice.Pipeline.Runtime;

/// <summary>
/// The one runtime behind <c>sluice replay</c>, <c>sluice run</c>, <c>sluice profile</c> and the C# API
/// (<c>StreamPipeline</c>): selects the resolvers, opens the stores, opens every source through its kind and every
/// target through its target kind, runs one block graph per reader, and stops them together.
/// <list type="bullet">
/// <item>A source kind that reads per resolver (Kafka, Kinesis, Pub/Sub: a consumer group, checkpoints, a subscription of
/// each resolver's own) gets one reader and one graph per resolver; the resolvers of a shared source (a recording) get
/// one reader and one graph between them, and header filters route its messages.</item>
/// <item>A sink goes to its target's kind (any resolver may sink to any kind that has a writer), to a resolver of the
/// same run in process when one reads the target (<see cref="RuntimeOptions.ChainInProcess"/>), or, in a replay, to
/// files. Dead letters go to the source's dead-letter target when it names one, else to the dead-letter file.</item>
/// <item>The first graph that fails stops the others; its failure is rethrown once they have drained.</item>
/// </list>
/// </summary>
public static class PipelineRuntime
{
    /// <summary>Runs until every reader ends (a recording's end, idle exit) or <paramref name="stop"/>; returns what it did.</summary>
    /// <exception cref="RunSetupException">Nothing to run as asked, or a store that cannot be opened as named.</exception>
    /// <exception cref="SourceException">A source failed while it was read.</exception>
    /// <exception cref="GraphFaultException">A store or target failed for good (after its retries); nothing it did not take was acknowledged.</exception>
    public static async Task<RunResult> RunAsync(CompiledDefinitions definitions, Connectors connectors, RuntimeOptions options, CancellationToken stop = default)
    {
        var plans = Select(definitions, connectors, options);
        var sw = Stopwatch.StartNew();
        await using var stores = await RunStores.OpenAsync(connectors, options, stop);
        var units = Units(plans, definitions, connectors, options);
        var board = new ProgressBoard(units.Count, options.Progress);
        using var stopAll = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var results = await Task.WhenAll(units.Select(async (unit, i) =>
        {
            try
            {
                var (result, failure) = await RunUnitAsync(unit, definitions, connectors, options, stores, (m, c) => board.Report(i, m, c), stopAll.Token);
                if (failure is not null)
                {
                    // The others stop cleanly too: the run ends consistent, and says why.
                    failures.Enqueue(failure);
                    await stopAll.CancelAsync();
                }
                return result;
            }
            catch
            {
                // A failing graph stops the others: one blocked on a full in-process chain would otherwise wait forever.
                await stopAll.CancelAsync();
                throw;
            }
            finally
            {
                foreach (var chain in unit.Feeds) chain.FeederDone(); // a chained resolver's input ends once every feeder is done
            }
        }));
        var run = new RunResult(results.Sum(r => r.Messages), sw.Elapsed.TotalSeconds,
            results.SelectMany(r => r.Resolvers).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal))
        {
            Blocks = results.SelectMany(r => r.Blocks).ToList(),
            Committed = results.SelectMany(r => r.Committed).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Max(kv => kv.Value)),
        };
        if (failures.TryDequeue(out var first)) throw new RunStoppedException(run, first);
        return run;
    }

    /// <summary>The resolvers the run serves, in definition order.</summary>
    private static List<ResolverPlan> Select(CompiledDefinitions definitions, Connectors connectors, RuntimeOptions options)
    {
        var unknown = (options.Resolvers ?? []).Where(r => definitions.Resolvers.All(x => x.Name != r)).ToList();
        if (unknown.Count > 0)
            throw new RunSetupException($"unknown resolver {string.Join(", ", unknown)}; resolvers: {string.Join(", ", definitions.Resolvers.Select(r => r.Name))}");
        // A resolver named on the command line that the environment excludes is a mistake to report, not to skip quietly.
        var excluded = definitions.Resolvers.Where(r => options.Resolvers?.Contains(r.Name) == true && !r.RunsIn(options.Environment)).ToList();
        if (excluded.Count > 0)
            throw new RunSetupException(string.Join("; ", excluded.Select(r => $"resolver {r.Name} runs only in environment{(r.Environments!.Count > 1 ? "s" : "")} "
                + $"{string.Join(", ", r.Environments!)}, and the environment is {(options.Environment is null ? "not set (--env)" : $"'{options.Environment}'")}")));
        var plans = definitions.Resolvers.Where(r => r.RunsIn(options.Environment) && (options.Resolvers is null || options.Resolvers.Contains(r.Name))).ToList();
        string where = options.Environment is null ? "" : $" in environment '{options.Environment}'";
        if (options.LiveOnly && options.Replay is null)
        {
            var live = connectors.Sources.Values.Where(k => k.Live).Select(k => k.Name).ToList();
            plans = plans.Where(p => live.Contains(p.Source.Kind.Value)).ToList();
            if (plans.Count == 0) throw new RunSetupException($"no resolver{where} reads a live source ({string.Join(", ", live)}); 'sluice replay' reads recordings");
        }
        if (plans.Count == 0) throw new RunSetupException($"no resolver to run{where}");
        return plans;
    }

    /// <summary>One reader and the graph it feeds.</summary>
    private sealed record Unit(SourceDef? Source, IReadOnlyList<ResolverPlan> Plans, Func<IMessageSource> Open, IReadOnlyDictionary<string, InProcessChain> Chains)
    {
        /// <summary>The chains this unit's resolvers write into.</summary>
        public IReadOnlyList<InProcessChain> Feeds { get; init; } = [];
    }

    private static List<Unit> Units(List<ResolverPlan> plans, CompiledDefinitions definitions, Connectors connectors, RuntimeOptions options)
    {
        if (options.Replay is { } replay) return [new Unit(null, plans, () => replay, new Dictionary<string, InProcessChain>())];
        // Sinks whose target another selected resolver reads are handed over in process.
        var chains = !options.ChainInProcess ? new Dictionary<string, InProcessChain>(StringComparer.Ordinal)
            : plans.Where(p => p.Sink is { } s && plans.Any(q => q.Source.Name == s.Target)).Select(p => p.Sink!.Target).Distinct(StringComparer.Ordinal)
                .ToDictionary(t => t, t => new InProcessChain(definitions.Sources[t], plans.Count(p => p.Sink?.Target == t)), StringComparer.Ordinal);
        var context = new SourceContext
        {
            IdleExit = options.IdleExit,
            MaxMessages = options.MaxMessages,
            StateDirectory = Path.GetDirectoryName(Path.GetFullPath(options.DeadLetterPath)) ?? ".sluice",
        };
        var units = new List<Unit>();
        foreach (var group in plans.GroupBy(p => p.Source.Name, StringComparer.Ordinal))
        {
            var source = group.First().Source;
            var members = group.ToList();
            if (chains.TryGetValue(source.Name, out var chain)) units.Add(new Unit(source, members, () => chain, chains));
            else
            {
                var kind = connectors.Sources[source.Kind.Value];
                if (kind.ReaderPerResolver)
                    foreach (var plan in members) units.Add(new Unit(source, [plan], () => kind.Open(source, [plan], context), chains));
                else units.Add(new Unit(source, members, () => kind.Open(source, members, context), chains));
            }
        }
        return units.Select(u => u with
        {
            Feeds = u.Plans.Where(p => p.Sink is { } s && chains.ContainsKey(s.Target)).Select(p => chains[p.Sink!.Target]).ToList(),
        }).ToList();
    }

    // The graph's result, and the failure that stopped its source mid-stream (after the graph drained what was read).
    private static async Task<(GraphResult Result, Exception? SourceFailure)> RunUnitAsync(Unit unit, CompiledDefinitions definitions, Connectors connectors,
        RuntimeOptions options, RunStores stores, Action<long, IReadOnlyDictionary<string, OutcomeCounts>> progress, CancellationToken stop)
    {
        var source = unit.Open();
        var failure = new SourceFailure();
        GraphResult result;
        try
        {
            bool replay = options.Replay is not null;
            var targets = new TargetContext { SinkDirectory = options.SinkDirectory };
            await using var sinks = new SinkRouter(definitions, connectors, targets, unit.Chains, replay);
            await using var deadLetters = new DeadLetterRouter(connectors, targets, options.DeadLetterPath, replay);
            var traits = source.Traits;
            var tuning = options.Graph;
            await using var offline = options.OfflineDirectory is { } dir ? connectors.Offline(dir, traits.DurableWithin ?? tuning.OfflineFileAge) : null;
            var graph = new GraphOptions
            {
                Online = stores.Online,
                Dedup = stores.Dedup,
                Offline = offline,
                Sink = sinks,
                DeadLetters = deadLetters,
                Committed = source.Acknowledged,
                Clock = traits.Live ? TimeProvider.System : null,
                // A live source batches itself and hands on what is due.
                Tuning = traits.Live ? tuning with { BatchSize = traits.BatchSize, Linger = TimeSpan.Zero } : tuning,
            };
            // The source stops reading when told; the graph then drains everything it was handed.
            result = await StreamGraph.RunAsync(unit.Plans, Read(source, unit, failure, stop), graph, progress, CancellationToken.None);
        }
        finally
        {
            await source.DisposeAsync(); // commits what was acknowledged
        }
        foreach (var warning in source.Warnings) options.Warn?.Invoke($"source {unit.Source?.Name ?? "replay"}: {warning}");
        if (source.Fault is { } fault) throw new SourceException(unit.Source?.Name ?? "replay", unit.Source?.Kind.Value ?? "replay", fault);
        return (result, failure.Error);
    }

    /// <summary>The source's events; a failure of the source travels as a <see cref="SourceException"/> naming it.</summary>
    private sealed class SourceFailure
    {
        public Exception? Error;
    }

    // A source that fails mid-stream ends the stream there: the graph drains and commits what was read before the
    // failure (so every store holds the same messages), and the failure is reported after.
    private static async IAsyncEnumerable<SourceEvent> Read(IMessageSource source, Unit unit, SourceFailure failure, [EnumeratorCancellation] CancellationToken stop = default)
    {
        await using var e = source.ReadAsync(stop).GetAsyncEnumerator(CancellationToken.None);
        while (true)
        {
            try
            {
                if (!await e.MoveNextAsync()) yield break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failure.Error = ex is SourceException or InvalidDataException || unit.Source is not { } s ? ex : new SourceException(s.Name, s.Kind.Value, ex);
                break;
            }
            yield return e.Current;
        }
    }

    /// <summary>Sums the progress of every unit for <see cref="RuntimeOptions.Progress"/>.</summary>
    private sealed class ProgressBoard(int units, Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? report)
    {
        private readonly long[] _messages = new long[units];
        private readonly IReadOnlyDictionary<string, OutcomeCounts>[] _counts = Enumerable.Repeat<IReadOnlyDictionary<string, OutcomeCounts>>(new Dictionary<string, OutcomeCounts>(), units).ToArray();

        public void Report(int unit, long messages, IReadOnlyDictionary<string, OutcomeCounts> counts)
        {
            if (report is null) return;
            long total;
            Dictionary<string, OutcomeCounts> all;
            lock (this)
            {
                _messages[unit] = messages;
                _counts[unit] = counts;
                total = _messages.Sum();
                all = _counts.SelectMany(c => c).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
            }
            report(total, all);
        }
    }
}
