using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph.Blocks;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Observability;

namespace Sluice.Pipeline.Graph;

/// <summary>
/// The block graph of one source and its resolvers, on TPL Dataflow:
/// <code>
/// source -> batcher -> per resolver: resolve (header filter, late drop, parse, project, derived; DOP p, ordered)
///   -> dedup -> fan-out -> online writer (group commit) --\
///                        |-> offline writer             ---+-> ack -> committed positions
///                        |-> sink writer                ---|
///                        '-> dead-letter writer         --/
/// </code>
/// Each block is a class of its own under <c>Graph/Blocks</c>; this class wires them, feeds them and drains them.
/// Every block is bounded, so a slow store slows the reader and memory stays flat; fan-out awaits every writer and
/// never drops. A message's outcome is counted once every writer of its batch has made it durable. A faulted block
/// faults the whole graph with a <see cref="GraphFaultException"/> naming the block and the positions. Every resolver
/// sees every message; header filters route them.
/// </summary>
internal static class StreamGraph
{
    /// <summary>Runs <paramref name="resolvers"/> over <paramref name="batches"/> to their end.</summary>
    public static Task<GraphResult> RunAsync(IReadOnlyList<ResolverPlan> resolvers, IAsyncEnumerable<MessageBatch> batches, GraphOptions options,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken cancellationToken = default) =>
        RunAsync(resolvers, Events(batches, cancellationToken), options, progress, cancellationToken);

    private static async IAsyncEnumerable<SourceEvent> Events(IAsyncEnumerable<MessageBatch> batches,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var b in batches.WithCancellation(cancellationToken)) yield return SourceEvent.Of(b);
    }

    /// <summary>
    /// Runs the graph until <paramref name="events"/> ends, then drains it: everything read is written, acknowledged and
    /// reported through <see cref="GraphOptions.Committed"/> before this returns.
    /// </summary>
    public static async Task<GraphResult> RunAsync(IReadOnlyList<ResolverPlan> resolvers, IAsyncEnumerable<SourceEvent> events, GraphOptions options,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken cancellationToken = default)
    {
        int parallelism = options.Tuning.Parallelism > 0 ? options.Tuning.Parallelism : Environment.ProcessorCount;
        var sw = Stopwatch.StartNew();
        long messages = 0;
        using var metrics = new GraphMetrics(options.SampleEvery);
        using var feed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var flush = new FlushSignal();
        var bounded = new ExecutionDataflowBlockOptions { BoundedCapacity = options.Tuning.Capacity, CancellationToken = feed.Token };

        // Built from the end of the graph towards its start: each block is handed the ones it feeds.
        var acks = new AckBlock(resolvers, options.Committed, metrics, feed.Token);
        var online = new OnlineWriter(options.Online, options, acks, flush, metrics, bounded, cancellationToken);
        var offline = options.Offline is null ? null : new OfflineWriter(options.Offline, acks, flush, metrics, bounded, cancellationToken);
        var sink = TargetWriter.CreateSink(options.Sink, acks, metrics, bounded, cancellationToken);
        var deadLetters = TargetWriter.CreateDeadLetters(options.DeadLetters, acks, metrics, bounded, cancellationToken);
        var fanOut = FanOutBlock.Create(online, offline, sink.Block, deadLetters.Block, acks, metrics, bounded, feed.Token);
        var dedup = DedupBlock.Create(options.Dedup, options.Tuning.Capacity * Math.Max(1, resolvers.Count), metrics, feed.Token, cancellationToken);
        dedup.LinkTo(fanOut, new DataflowLinkOptions { PropagateCompletion = true });
        var resolve = resolvers.Select(plan => ResolveBlock.Create(plan, parallelism, options.Tuning.Capacity, metrics, feed.Token)).ToArray();
        foreach (var r in resolve) r.LinkTo(dedup);

        // Any fault stops the feed and faults every other block with the same exception, so nothing waits forever.
        IDataflowBlock[] blocks = [acks.Block, online.Block, .. offline is null ? [] : new IDataflowBlock[] { offline.Block }, sink.Block, deadLetters.Block, fanOut, dedup, .. resolve];
        Exception? firstFault = null;
        foreach (var block in blocks)
            _ = block.Completion.ContinueWith(t =>
            {
                var e = t.Exception!.InnerException ?? t.Exception;
                Interlocked.CompareExchange(ref firstFault, e, null);
                feed.Cancel();
                foreach (var other in blocks) other.Fault(e);
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

        // Ticks let an idle stream's last rows commit online and its old offline segments close.
        void Tick()
        {
            online.Block.Post(WriterInput.Tick);
            offline?.Block.Post(WriterInput.Tick);
        }
        // Progress is told on every fragment read, and every tick: what was written shows while the source is quiet too.
        using var ticks = new Timer(_ =>
        {
            Tick();
            progress?.Invoke(Interlocked.Read(ref messages), acks.Visible());
        }, null, options.Tuning.CommitInterval, options.Tuning.CommitInterval);
        var batcher = new MessageBatcher(options.Tuning.BatchSize, options.Tuning.Linger);
        var sourceMetrics = metrics.Add("source+batcher", 1, () => 0);
        string sourceName = resolvers.Count > 0 ? resolvers[0].Source.Name : "none";
        long sequence = 0, streamTime = long.MinValue;
        try
        {
            async Task Send(MessageBatch batch)
            {
                if (options.Clock is { } clock) streamTime = clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;
                else for (int i = 0; i < batch.Length; i++) streamTime = Math.Max(streamTime, batch.Timestamp.Values[i]);
                long seq = sequence++;
                SluiceMetrics.Batch(sourceName, batch.Length);
                acks.Read(seq, batch, resolvers.Count);
                foreach (var r in resolve)
                    if (!await r.SendAsync(new SourceBatch(seq, batch, streamTime), feed.Token)) throw new OperationCanceledException(feed.Token);
            }

            // Waits until every batch before `upTo` is acknowledged, meanwhile ticking the writers to commit and close at once.
            async Task FlushAsync(long upTo)
            {
                using var _ = flush.Begin();
                while (acks.Acknowledged < upTo)
                {
                    feed.Token.ThrowIfCancellationRequested();
                    Tick();
                    await Task.Delay(5, feed.Token);
                }
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
                Interlocked.Add(ref messages, fragment.Length);
                var ready = sourceMetrics.Measure(fragment.Length, () => batcher.Add(fragment, Stopwatch.GetTimestamp()), r => r.Sum(b => (long)b.Length));
                foreach (var batch in ready) await Send(batch);
                progress?.Invoke(messages, acks.Visible());
            }
            if (batcher.Flush() is { } last) await Send(last);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && firstFault is not null)
        {
            // A block faulted; it is rethrown below.
        }

        foreach (var r in resolve) r.Complete();
        await Drain(resolve.Select(r => r.Completion));
        dedup.Complete();
        await Drain([fanOut.Completion]);
        await ticks.DisposeAsync();
        online.Block.Complete();
        offline?.Block.Complete();
        sink.Block.Complete();
        deadLetters.Block.Complete();
        await Drain([online.Block.Completion, offline?.Block.Completion ?? Task.CompletedTask, sink.Block.Completion, deadLetters.Block.Completion]);
        // The continuations that record a fault run asynchronously: a block may have faulted (or been faulted through a
        // link) before its fault was recorded. Every block has ended by now, so their completions are read directly.
        // A block's own failure (a GraphFaultException naming it and its messages) wins over what it caused upstream,
        // such as the fan-out finding that a writer stopped taking batches, whichever was recorded first.
        Exception? Recorded() => blocks.Where(b => b.Completion.IsFaulted)
            .Select(b => b.Completion.Exception!.InnerException ?? b.Completion.Exception!)
            .Prepend(firstFault).OfType<Exception>()
            .OrderBy(e => e is GraphFaultException ? 0 : 1).FirstOrDefault();
        firstFault = Recorded();
        if (firstFault is null)
        {
            try
            {
                await sink.FinishAsync();
                await deadLetters.FinishAsync();
                await online.FinishAsync();
                if (offline is not null) await offline.FinishAsync();
            }
            catch (GraphFaultException e) { firstFault = e; }
        }
        acks.Block.Complete();
        await Drain([acks.Block.Completion]);
        firstFault = Recorded();
        if (firstFault is not null) throw firstFault;
        cancellationToken.ThrowIfCancellationRequested();
        if (acks.InFlight != 0) throw new InvalidOperationException($"{acks.InFlight} batches were never acknowledged by every target");

        var counts = acks.Counts();
        progress?.Invoke(messages, counts);
        return new GraphResult(messages, sw.Elapsed.TotalSeconds, counts)
        {
            Blocks = metrics.Blocks,
            Committed = acks.Committable.ToDictionary(kv => kv.Key, kv => kv.Value),
        };

        // Waits for blocks to complete; their faults surface through firstFault.
        static async Task Drain(IEnumerable<Task> completions)
        {
            try { await Task.WhenAll(completions); }
            catch (Exception) { /* recorded in firstFault by the continuation */ }
        }
    }
}
