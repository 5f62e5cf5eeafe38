using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Stores;

namespace Sluice.Pipeline.Graph;

/// <summary>Where a replay writes and how it runs.</summary>
public sealed record ReplayOptions(
    string OnlinePath,
    string SinkDirectory,
    string DeadLetterPath,
    string? OfflineDirectory = null,
    string? Environment = null,
    IReadOnlyCollection<string>? Resolvers = null,
    int Parallelism = 0,
    int Capacity = 4);

/// <summary>What a replay did: messages read, time taken, and the outcome counts of each resolver.</summary>
public sealed record ReplayResult(long Messages, double Seconds, IReadOnlyDictionary<string, OutcomeCounts> Resolvers);

/// <summary>
/// Replays message batches through the selected resolvers into the embedded stores, on TPL Dataflow: per resolver a
/// bounded, ordered transform block running <see cref="ResolverStep"/> with the configured parallelism, then one
/// writer block (deduplication, online store, sinks, dead letters) in batch order. Every block is bounded, so a slow
/// store slows the reader and memory stays flat. Every resolver sees every message; header filters route them.
/// Late arrival is measured against stream time (the newest message timestamp read so far), so replaying an old
/// recording behaves as it did live.
/// </summary>
public static class ReplayGraph
{
    /// <summary>Runs the replay to the end of <paramref name="batches"/>.</summary>
    public static async Task<ReplayResult> RunAsync(CompiledDefinitions definitions, IAsyncEnumerable<MessageBatch> batches, ReplayOptions options,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken cancellationToken = default)
    {
        var plans = definitions.Resolvers
            .Where(r => r.RunsIn(options.Environment) && (options.Resolvers is null || options.Resolvers.Contains(r.Name))).ToList();
        var steps = plans.Select(p => new ResolverStep(p)).ToArray();
        var counts = plans.ToDictionary(p => p.Name, _ => OutcomeCounts.Zero, StringComparer.Ordinal);
        var dedup = new InMemoryDedupStore();
        int parallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount;
        var sw = Stopwatch.StartNew();
        long messages = 0;

        await using var online = await SqliteOnlineStore.OpenAsync(options.OnlinePath, cancellationToken: cancellationToken);
        await using var sinks = new FileSink(options.SinkDirectory);
        await using var offline = options.OfflineDirectory is null ? null : new ParquetOfflineStore(options.OfflineDirectory);
        StreamWriter? deadLetters = null;
        try
        {
            var writer = new ActionBlock<(int Resolver, ResolvedBatch Batch)>(async x =>
            {
                var plan = plans[x.Resolver];
                var batch = Deduplicate(plan, x.Batch, dedup);
                if (!plan.SkipOnline) await online.WriteAsync(plan, batch, cancellationToken);
                if (!plan.SkipOffline && offline is not null) await offline.WriteAsync(plan, batch, cancellationToken);
                if (plan.Sink is not null) await sinks.WriteAsync(plan, batch, cancellationToken);
                for (int i = 0; i < batch.Outcomes.Count; i++)
                {
                    if (batch.Outcomes[i] is not (MessageOutcome.ParseFailed or MessageOutcome.Failed)) continue;
                    deadLetters ??= OpenDeadLetters(options.DeadLetterPath);
                    await deadLetters.WriteLineAsync(MessageJsonl.Line(batch.Messages, i,
                    [
                        new("sluice-error", batch.Reasons[i] ?? batch.Outcomes[i].ToString()),
                        new("sluice-resolver", plan.Name),
                        new("sluice-source", batch.Messages.Position(i)),
                    ]));
                }
                if (deadLetters is not null) await deadLetters.FlushAsync(cancellationToken);
                counts[plan.Name] += batch.Counts();
            }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1, BoundedCapacity = options.Capacity * Math.Max(1, plans.Count), CancellationToken = cancellationToken });

            var transforms = steps.Select((step, r) =>
            {
                var block = new TransformBlock<(MessageBatch Batch, long Now), (int, ResolvedBatch)>(x => (r, step.Process(x.Batch, x.Now)),
                    new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = parallelism, BoundedCapacity = options.Capacity, EnsureOrdered = true, CancellationToken = cancellationToken });
                block.LinkTo(writer);
                return block;
            }).ToArray();

            // A faulted block stops taking input; cancel the feed so that no send waits on it, then surface its fault.
            using var feed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            foreach (var t in transforms)
                _ = t.Completion.ContinueWith(_ => feed.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            // Transforms whose output can no longer drain would never complete: fault them with the writer's exception.
            _ = writer.Completion.ContinueWith(w =>
            {
                foreach (var t in transforms) ((IDataflowBlock)t).Fault(w.Exception!.InnerException ?? w.Exception);
                feed.Cancel();
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            long streamTime = long.MinValue;
            try
            {
                await foreach (var batch in batches.WithCancellation(cancellationToken))
                {
                    messages += batch.Length;
                    for (int i = 0; i < batch.Length; i++) streamTime = Math.Max(streamTime, batch.Timestamp.Values[i]);
                    foreach (var t in transforms) await t.SendAsync((batch, streamTime), feed.Token);
                    progress?.Invoke(messages, counts);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A block faulted; awaiting the completions below rethrows its exception.
            }
            foreach (var t in transforms) t.Complete();
            try
            {
                await Task.WhenAll(transforms.Select(t => t.Completion));
            }
            finally
            {
                writer.Complete();
            }
            await writer.Completion;
        }
        finally
        {
            if (deadLetters is not null) await deadLetters.DisposeAsync();
        }
        progress?.Invoke(messages, counts);
        return new ReplayResult(messages, sw.Elapsed.TotalSeconds, counts);
    }

    private static StreamWriter OpenDeadLetters(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        return new StreamWriter(path, append: true, new System.Text.UTF8Encoding(false));
    }

    private static ResolvedBatch Deduplicate(ResolverPlan plan, ResolvedBatch batch, InMemoryDedupStore store)
    {
        if (batch.DeduplicationKeys is not { } keys || plan.DeduplicationWindow is not { } window) return batch;
        var drop = new bool[batch.Features.Length];
        var type = plan.DeduplicationKey!.Type;
        long windowMicros = (long)(window.TotalMilliseconds * 1000);
        for (int r = 0; r < drop.Length; r++)
        {
            int m = batch.RowMessage[r];
            var key = plan.Name + "\u001f" + FeatureJson.ToJson(keys, r, type);
            drop[r] = !store.Claim(key, batch.Messages.Position(m), batch.Messages.Timestamp.Values[m], windowMicros);
        }
        return batch.WithoutRows(drop, MessageOutcome.Duplicate);
    }
}
