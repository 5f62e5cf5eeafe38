using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Stores;

namespace Sluice.Pipeline.Graph;

/// <summary>Where a replay writes and how it runs.</summary>
public sealed record GraphOptions(
    string OnlinePath,
    string SinkDirectory,
    string DeadLetterPath,
    string? OfflineDirectory = null,
    string? Environment = null,
    IReadOnlyCollection<string>? Resolvers = null,
    int Parallelism = 0,
    int Capacity = 4)
{
    /// <summary>SQLite file of the deduplication store; null keeps claims in memory for the run only.</summary>
    public string? DedupPath { get; init; }

    /// <summary>Messages per batch handed to the resolvers (the batcher's size).</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>How long the batcher waits for a batch to fill before passing on what it has.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The online writer writes a group once this many rows wait (group commit: see <see cref="SqliteOnlineStore.WriteAsync"/>).
    /// Random keys dirty most of a SQLite table's pages in every commit, so fewer, larger groups write less: the 1M-user
    /// replay measured 173-180k msgs/s with 131,072-row groups and 188-189k with 262,144 (about 60 MB more staged).
    /// </summary>
    public int CommitRows { get; init; } = 262_144;

    /// <summary>... or once the oldest staged row has waited this long.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often block queue depths are sampled for <see cref="GraphResult.Blocks"/>.</summary>
    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Called with (topic, partition, next offset) each time a partition's acknowledged prefix advances: what a live
    /// source may commit. Called from the ack joiner, one call at a time.
    /// </summary>
    public Action<string, int, long>? Committed { get; init; }

    /// <summary>
    /// The wall clock that late arrival is measured against (live sources); null measures it against stream time, the
    /// newest message timestamp read so far, so that replaying an old recording behaves as it did live.
    /// </summary>
    public TimeProvider? Clock { get; init; }

    /// <summary>The online store; null opens the SQLite file at <see cref="OnlinePath"/>. The caller disposes what it passes; several graphs may share it.</summary>
    public IOnlineStore? Online { get; init; }

    /// <summary>The dedup store; null uses <see cref="DedupPath"/> (or memory). The caller disposes what it passes.</summary>
    public IDedupStore? Dedup { get; init; }

    /// <summary>Where sinks write; null writes files under <see cref="SinkDirectory"/>. The caller disposes what it passes.</summary>
    public IBatchTarget? Sink { get; init; }

    /// <summary>Where failed messages go; null appends them to <see cref="DeadLetterPath"/>. The caller disposes what it passes.</summary>
    public IBatchTarget? DeadLetters { get; init; }

    /// <summary>Age after which an offline file is closed, so its rows become durable and their positions committable.</summary>
    public TimeSpan OfflineFileAge { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Rows after which an offline file is closed (its rows then become durable and their positions committable).</summary>
    public long OfflineFileRows { get; init; } = 1_000_000;
}

/// <summary>
/// What a source hands the graph: a fragment of messages, or a flush request (a partition being revoked, a source
/// stopping): once every message handed before it is durable at every target and its position reported through
/// <see cref="GraphOptions.Committed"/>, the graph completes <see cref="Flushed"/>.
/// </summary>
public readonly record struct SourceEvent(MessageBatch? Messages, TaskCompletionSource? Flushed)
{
    /// <summary>A fragment of messages.</summary>
    public static SourceEvent Of(MessageBatch messages) => new(messages, null);

    /// <summary>A flush request, completed when everything handed before it is acknowledged.</summary>
    public static SourceEvent Flush(TaskCompletionSource flushed) => new(null, flushed);
}

/// <summary>What a replay did: messages read, time taken, and the outcome counts of each resolver.</summary>
public sealed record GraphResult(long Messages, double Seconds, IReadOnlyDictionary<string, OutcomeCounts> Resolvers)
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

/// <summary>
/// Replays message batches through the selected resolvers into the embedded stores, as the block graph of DESIGN.md
/// section 4 on TPL Dataflow:
/// <code>
/// source -> batcher -> per resolver: resolve (header filter, late drop, parse, project, derived; DOP p, ordered)
///   -> dedup -> fan-out -> online writer (group commit) --\
///                        |-> offline writer (Parquet)  ---+-> ack joiner -> committed positions
///                        |-> sink writer               ---|
///                        '-> dead-letter writer        --/
/// </code>
/// Every block is bounded, so a slow store slows the reader and memory stays flat; fan-out awaits every target and
/// never drops. A message's outcome is counted once every target of its batch has durably accepted it. A faulted
/// block faults the whole graph with a <see cref="GraphFaultException"/> naming the block and the positions.
/// Every resolver sees every message; header filters route them. Late arrival is measured against stream time
/// (the newest message timestamp read so far), so replaying an old recording behaves as it did live.
/// </summary>
public static class StreamGraph
{
    private sealed class Delivery(int resolver, long sequence, OutcomeCounts counts)
    {
        public int Resolver { get; } = resolver;
        public long Sequence { get; } = sequence;
        public OutcomeCounts Counts { get; } = counts;
        public int PendingTargets;
        public int PendingOfflineFiles;
    }

    /// <summary>An event for the ack joiner: a batch read (with its number of resolver deliveries), or a delivery done.</summary>
    private readonly record struct AckEvent(long Sequence, MessageBatch? Read, int Parts, Delivery? Done);

    /// <summary>Runs the replay to the end of <paramref name="batches"/>.</summary>
    public static Task<GraphResult> RunAsync(CompiledDefinitions definitions, IAsyncEnumerable<MessageBatch> batches, GraphOptions options,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken cancellationToken = default) =>
        RunAsync(definitions, Events(batches, cancellationToken), options, progress, cancellationToken);

    private static async IAsyncEnumerable<SourceEvent> Events(IAsyncEnumerable<MessageBatch> batches,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var b in batches.WithCancellation(cancellationToken)) yield return SourceEvent.Of(b);
    }

    /// <summary>
    /// Runs the graph until <paramref name="events"/> ends, then drains it: everything read is written, acknowledged and
    /// reported through <see cref="GraphOptions.Committed"/> before this returns.
    /// </summary>
    public static async Task<GraphResult> RunAsync(CompiledDefinitions definitions, IAsyncEnumerable<SourceEvent> events, GraphOptions options,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken cancellationToken = default)
    {
        var plans = definitions.Resolvers
            .Where(r => r.RunsIn(options.Environment) && (options.Resolvers is null || options.Resolvers.Contains(r.Name))).ToList();
        var counts = plans.ToDictionary(p => p.Name, _ => OutcomeCounts.Zero, StringComparer.Ordinal);
        int parallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount;
        var sw = Stopwatch.StartNew();
        long messages = 0;

        await using var ownDedup = options.Dedup is not null ? null
            : options.DedupPath is null ? (IDedupStore)new InMemoryDedupStore() : await SqliteDedupStore.OpenAsync(options.DedupPath, cancellationToken);
        var dedup = options.Dedup ?? ownDedup!;
        await using var ownOnline = options.Online is null ? await SqliteOnlineStore.OpenAsync(options.OnlinePath, cancellationToken: cancellationToken) : null;
        var online = options.Online ?? ownOnline!;
        await using var ownSink = options.Sink is null ? new FileSink(options.SinkDirectory) : null;
        await using var ownDeadLetters = options.DeadLetters is null ? new FileDeadLetters(options.DeadLetterPath) : null;
        IBatchTarget sinks = options.Sink ?? ownSink!, deadLetters = options.DeadLetters ?? ownDeadLetters!;
        await using var offline = options.OfflineDirectory is null ? null : new ParquetOfflineStore(options.OfflineDirectory) { MaxFileAge = options.OfflineFileAge, MaxRowsPerFile = options.OfflineFileRows };
        using var metrics = new GraphMetrics(options.SampleEvery);
        using var feed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var blocks = new List<(string Name, IDataflowBlock Block)>();
        var joiner = new AckJoiner();
        if (options.Committed is { } committed) joiner.Committed += committed;
        int flushing = 0; // > 0 while a flush request waits: ticks then commit and close at once
        var bounded = new ExecutionDataflowBlockOptions { BoundedCapacity = options.Capacity, CancellationToken = feed.Token };

        T Add<T>(string name, T block) where T : IDataflowBlock
        {
            blocks.Add((name, block));
            return block;
        }

        // A writer block: bounded, one worker, its rows and busy time measured under its name.
        ActionBlock<TIn> Writer<TIn>(string name, Func<TIn, long> rowsIn, Func<TIn, Task<long>> work)
        {
            ActionBlock<TIn>? block = null;
            var m = metrics.Add(name, 1, () => block?.InputCount ?? 0);
            return block = Add(name, new ActionBlock<TIn>(x => m.MeasureAsync(rowsIn(x), () => work(x), n => n), bounded));
        }

        // The ack joiner: counts a delivery's outcomes once all its targets are durable, and advances committed positions.
        var ack = Add("ack", new ActionBlock<AckEvent>(e =>
        {
            if (e.Read is not null) joiner.Register(e.Sequence, e.Read, e.Parts);
            else
            {
                var d = e.Done!;
                lock (counts) counts[plans[d.Resolver].Name] += d.Counts;
                joiner.Ack(d.Sequence);
            }
        }, new ExecutionDataflowBlockOptions { CancellationToken = feed.Token }));
        metrics.Add("ack", 1, () => ack.InputCount);

        void TargetDone(Delivery d)
        {
            if (Interlocked.Decrement(ref d.PendingTargets) == 0) ack.Post(new AckEvent(d.Sequence, null, 0, d));
        }

        // Online writer: stages batches and commits them as one group once enough rows wait or the oldest has waited
        // long enough (a timer ticks so that an idle stream's last rows commit too), and at the end. A commit runs in
        // the background while the next group stages; commits never overlap.
        var onlineGroup = new List<(Delivery D, ResolverPlan Plan, Apache.Arrow.RecordBatch Features, object? Staged)>();
        var staging = online as IStagingOnlineStore; // prepares each batch here, while the previous group is written
        int onlineRows = 0;
        long groupStarted = 0;
        Task committing = Task.CompletedTask;
        async Task CommitOnline(MessageBatch? at)
        {
            if (onlineGroup.Count == 0) return;
            await committing;
            var group = onlineGroup.ToArray();
            onlineGroup.Clear();
            onlineRows = 0;
            committing = Task.Run(async () =>
            {
                await GuardAsync("online", at, () => staging is not null
                    ? staging.WriteStagedAsync(group.Select(x => x.Staged!).ToList(), cancellationToken)
                    : online.WriteAsync(group.Select(x => (x.Plan, x.Features)).ToList(), cancellationToken));
                foreach (var x in group) TargetDone(x.D);
            }, CancellationToken.None);
        }
        var onlineBlock = Writer<(Delivery? D, ResolvedBatch? B)>("online", x => x.B?.Features.Length ?? 0, async x =>
        {
            if (x.B is not null)
            {
                if (onlineGroup.Count == 0) groupStarted = Stopwatch.GetTimestamp();
                var plan = plans[x.D!.Resolver];
                var staged = staging is null ? null : Guard("online", x.B.Messages, () => staging.Stage(plan, x.B.Features));
                onlineGroup.Add((x.D!, plan, x.B.Features, staged)); // rows only: the raw messages may go
                onlineRows += x.B.Features.Length;
            }
            if (onlineRows >= options.CommitRows || (onlineGroup.Count > 0 && (Volatile.Read(ref flushing) > 0 || Stopwatch.GetElapsedTime(groupStarted) >= options.CommitInterval)))
                await CommitOnline(x.B?.Messages);
            return x.B?.Features.Length ?? 0;
        });

        // Offline writer: rows are durable when their Parquet file closes (rolled by rows or age, or at the end).
        var offlinePending = new Dictionary<string, List<Delivery>>(StringComparer.Ordinal);
        void OfflineClosed()
        {
            foreach (var key in offline!.TakeClosed())
                if (offlinePending.Remove(key, out var waiting))
                    foreach (var d in waiting)
                        if (--d.PendingOfflineFiles == 0) TargetDone(d);
        }
        // A tick (null batch) closes the files that are old enough, or all of them while a flush waits.
        var offlineBlock = Writer<(Delivery? D, ResolvedBatch? B)>("offline", x => x.B?.Features.Length ?? 0, async x =>
        {
            if (x.B is null)
            {
                await GuardAsync("offline", null, () => Volatile.Read(ref flushing) > 0 ? offline!.CloseAllAsync() : offline!.CloseExpiredAsync());
                OfflineClosed();
                return 0;
            }
            var d = x.D!;
            var files = await GuardAsync("offline", x.B.Messages, () => offline!.WriteAsync(plans[d.Resolver], x.B, cancellationToken));
            d.PendingOfflineFiles = files.Count;
            foreach (var key in files)
            {
                if (!offlinePending.TryGetValue(key, out var list)) offlinePending[key] = list = [];
                list.Add(d);
            }
            if (files.Count == 0) TargetDone(d);
            OfflineClosed();
            return x.B.Features.Length;
        });

        var sinkBlock = Writer<(Delivery? D, ResolvedBatch? B)>("sink", x => x.B!.Features.Length, async x =>
        {
            await GuardAsync("sink", x.B!.Messages, () => sinks.WriteAsync(plans[x.D!.Resolver], x.B, cancellationToken));
            TargetDone(x.D!);
            return x.B.Features.Length;
        });

        var deadBlock = Writer<(Delivery? D, ResolvedBatch? B)>("dead-letter", x => x.B!.Messages.Length, async x =>
        {
            int written = await GuardAsync("dead-letter", x.B!.Messages, () => deadLetters.WriteAsync(plans[x.D!.Resolver], x.B, cancellationToken));
            TargetDone(x.D!);
            return written;
        });

        // Fan-out: one delivery per resolved batch, sent to every target that has work; SendAsync waits, never drops.
        var fanOut = Writer<(int Resolver, long Sequence, ResolvedBatch Batch)>("fan-out", x => x.Batch.Features.Length, async x =>
        {
            var plan = plans[x.Resolver];
            var b = x.Batch;
            bool rows = b.Features.Length > 0;
            var targets = new List<ITargetBlock<(Delivery?, ResolvedBatch?)>>();
            if (rows && !plan.SkipOffline && offline is not null) targets.Add(offlineBlock);
            if (rows && plan.Sink is not null) targets.Add(sinkBlock);
            if (b.Outcomes.Any(o => o is MessageOutcome.ParseFailed or MessageOutcome.Failed)) targets.Add(deadBlock);
            bool toOnline = rows && !plan.SkipOnline;
            var d = new Delivery(x.Resolver, x.Sequence, b.Counts()) { PendingTargets = targets.Count + (toOnline ? 1 : 0) + 1 };
            if (toOnline && !await onlineBlock.SendAsync((d, b), feed.Token)) throw new InvalidOperationException("the online writer stopped taking batches");
            foreach (var t in targets)
                if (!await t.SendAsync((d, b), feed.Token)) throw new InvalidOperationException("a writer stopped taking batches");
            TargetDone(d); // the +1 above: no target can finish the delivery before all were handed it
            return b.Features.Length;
        });

        // Dedup: claims each row's key with its source position; one store for all resolvers, keys namespaced per resolver.
        BlockMetrics? dedupMetrics = null;
        var dedupBlock = Add("dedup", new TransformBlock<(int Resolver, long Sequence, ResolvedBatch Batch), (int, long, ResolvedBatch)>(
            x => dedupMetrics!.MeasureAsync(x.Batch.Features.Length, async () =>
                (x.Resolver, x.Sequence, await GuardAsync("dedup", x.Batch.Messages, async () =>
                    await OnlineStep.ApplyAsync(plans[x.Resolver], await Deduplicate(plans[x.Resolver], x.Batch, dedup, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))),
                r => r.Item3.Features.Length),
            new ExecutionDataflowBlockOptions { BoundedCapacity = options.Capacity * Math.Max(1, plans.Count), CancellationToken = feed.Token }));
        dedupMetrics = metrics.Add("dedup", 1, () => dedupBlock.InputCount);
        dedupBlock.LinkTo(fanOut, new DataflowLinkOptions { PropagateCompletion = true });

        var transforms = plans.Select((plan, r) =>
        {
            var step = new ResolverStep(plan);
            BlockMetrics? m = null;
            var block = Add($"{plan.Name}/resolve", new TransformBlock<(long Sequence, MessageBatch Batch, long Now), (int, long, ResolvedBatch)>(
                x => m!.Measure(x.Batch.Length, () => (r, x.Sequence, Guard($"{plan.Name}/resolve", x.Batch, () => step.Process(x.Batch, x.Now))), o => o.Item3.Features.Length),
                new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = parallelism, BoundedCapacity = options.Capacity, EnsureOrdered = true, CancellationToken = feed.Token }));
            m = metrics.Add($"{plan.Name}/resolve", parallelism, () => block.InputCount);
            block.LinkTo(dedupBlock);
            return block;
        }).ToArray();

        // Any fault stops the feed and faults every other block with the same exception, so nothing waits forever.
        Exception? firstFault = null;
        foreach (var (_, block) in blocks)
            _ = block.Completion.ContinueWith(t =>
            {
                var e = t.Exception!.InnerException ?? t.Exception;
                Interlocked.CompareExchange(ref firstFault, e, null);
                feed.Cancel();
                foreach (var (_, other) in blocks) other.Fault(e);
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

        // Ticks let an idle stream's last rows commit online and its old offline files close.
        void Tick()
        {
            onlineBlock.Post((null, null));
            if (offline is not null) offlineBlock.Post((null, null));
        }
        using var ticks = new Timer(_ => Tick(), null, options.CommitInterval, options.CommitInterval);
        var batcher = new MessageBatcher(options.BatchSize, options.Linger);
        var sourceMetrics = metrics.Add("source+batcher", 1, () => 0);
        long sequence = 0, streamTime = long.MinValue;
        try
        {
            async Task Send(MessageBatch batch)
            {
                if (options.Clock is { } clock) streamTime = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
                else for (int i = 0; i < batch.Length; i++) streamTime = Math.Max(streamTime, batch.Timestamp.Values[i]);
                long seq = sequence++;
                ack.Post(new AckEvent(seq, batch, plans.Count, null));
                foreach (var t in transforms)
                    if (!await t.SendAsync((seq, batch, streamTime), feed.Token)) throw new OperationCanceledException(feed.Token);
            }

            // Waits until every batch before `upTo` is acknowledged, meanwhile ticking the writers to commit and close at once.
            async Task FlushAsync(long upTo)
            {
                Interlocked.Increment(ref flushing);
                try
                {
                    while (joiner.Acknowledged < upTo)
                    {
                        feed.Token.ThrowIfCancellationRequested();
                        Tick();
                        await Task.Delay(5, feed.Token);
                    }
                }
                finally { Interlocked.Decrement(ref flushing); }
            }
            await foreach (var e in events.WithCancellation(feed.Token))
            {
                if (e.Flushed is { } flushed)
                {
                    if (batcher.Flush() is { } waiting) await Send(waiting);
                    await FlushAsync(sequence);
                    flushed.TrySetResult();
                    continue;
                }
                var fragment = e.Messages!;
                messages += fragment.Length;
                var ready = sourceMetrics.Measure(fragment.Length, () => batcher.Add(fragment, Stopwatch.GetTimestamp()), r => r.Sum(b => (long)b.Length));
                foreach (var batch in ready) await Send(batch);
                progress?.Invoke(messages, Snapshot(counts));
            }
            if (batcher.Flush() is { } last) await Send(last);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && firstFault is not null)
        {
            // A block faulted; it is rethrown below.
        }

        foreach (var t in transforms) t.Complete();
        await Drain(transforms.Select(t => t.Completion));
        dedupBlock.Complete();
        await Drain([fanOut.Completion]);
        await ticks.DisposeAsync();
        onlineBlock.Complete();
        offlineBlock.Complete();
        sinkBlock.Complete();
        deadBlock.Complete();
        await Drain([onlineBlock.Completion, offlineBlock.Completion, sinkBlock.Completion, deadBlock.Completion]);
        if (firstFault is null)
        {
            try
            {
                await CommitOnline(null);
                await committing;
            }
            catch (GraphFaultException e) { firstFault = e; }
        }
        if (firstFault is null && offline is not null)
        {
            await offline.CloseAllAsync();
            OfflineClosed();
        }
        ack.Complete();
        await Drain([ack.Completion]);
        if (firstFault is not null) throw firstFault;
        cancellationToken.ThrowIfCancellationRequested();
        if (joiner.InFlight != 0) throw new InvalidOperationException($"{joiner.InFlight} batches were never acknowledged by every target");

        progress?.Invoke(messages, Snapshot(counts));
        return new GraphResult(messages, sw.Elapsed.TotalSeconds, counts)
        {
            Blocks = metrics.Blocks,
            Committed = joiner.Committable.ToDictionary(kv => kv.Key, kv => kv.Value),
        };

        // Waits for blocks to complete; their faults surface through firstFault.
        static async Task Drain(IEnumerable<Task> completions)
        {
            try { await Task.WhenAll(completions); }
            catch (Exception) { /* recorded in firstFault by the continuation */ }
        }
    }

    private static IReadOnlyDictionary<string, OutcomeCounts> Snapshot(Dictionary<string, OutcomeCounts> counts)
    {
        lock (counts) return new Dictionary<string, OutcomeCounts>(counts, StringComparer.Ordinal);
    }

    /// <summary>The positions a fault names: first..last of the batch, or the staged group when the work spans batches.</summary>
    private static string Positions(MessageBatch? b) => b is null ? "(staged batches)" : b.Length == 0 ? "(none)"
        : b.Length == 1 ? b.Position(0) : $"{b.Position(0)}..{b.Position(b.Length - 1)}";

    /// <summary>Runs a block's work, wrapping a failure in a <see cref="GraphFaultException"/> with the block and positions.</summary>
    private static T Guard<T>(string block, MessageBatch? at, Func<T> work)
    {
        try { return work(); }
        catch (Exception e) when (e is not OperationCanceledException and not GraphFaultException) { throw new GraphFaultException(block, Positions(at), e); }
    }

    private static void Guard(string block, MessageBatch? at, Action work) => Guard(block, at, () => { work(); return 0; });

    private static async Task<T> GuardAsync<T>(string block, MessageBatch? at, Func<Task<T>> work)
    {
        try { return await work(); }
        catch (Exception e) when (e is not OperationCanceledException and not GraphFaultException) { throw new GraphFaultException(block, Positions(at), e); }
    }

    private static Task GuardAsync(string block, MessageBatch? at, Func<Task> work) => GuardAsync(block, at, async () => { await work(); return 0; });

    internal static async Task<ResolvedBatch> Deduplicate(ResolverPlan plan, ResolvedBatch batch, IDedupStore store, CancellationToken ct)
    {
        if (batch.DeduplicationKeys is not { } keys || plan.DeduplicationWindow is not { } window || batch.Features.Length == 0) return batch;
        var type = plan.DeduplicationKey!.Type;
        long windowMicros = (long)(window.TotalMilliseconds * 1000);
        // A null key claims nothing: such a message is never a duplicate.
        var rows = Enumerable.Range(0, batch.Features.Length).Where(r => !keys.IsNull(r)).ToArray();
        var claims = rows.Select(r =>
        {
            int m = batch.RowMessage[r];
            return new DedupClaim(plan.Name + "\u001f" + FeatureJson.ToJson(keys, r, type), batch.Messages.Identity(m), batch.Messages.Timestamp.Values[m], windowMicros);
        }).ToArray();
        var keep = await store.ClaimAsync(claims, ct);
        var drop = new bool[batch.Features.Length];
        for (int i = 0; i < rows.Length; i++) drop[rows[i]] = !keep[i];
        return batch.WithoutRows(drop, MessageOutcome.Duplicate);
    }
}
