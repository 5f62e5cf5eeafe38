using System.Threading.Tasks.Dataflow;
using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Observability;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// Writes deliveries to a target (the sinks, the dead-letter target); a delivery is done when the target's write for it
/// completed. Writes start in arrival order; as many are outstanding at once as the target allows for the delivery's
/// resolver (<see cref="IBatchTarget.WritesInFlight"/>), so that a producer's acknowledgements overlap the next batches.
/// </summary>
internal sealed class TargetWriter
{
    public const string Sink = "sink", DeadLetter = "dead-letter";

    private readonly IBatchTarget _target;
    private readonly AckBlock _acks;
    private readonly string _name;
    private readonly CancellationToken _cancellationToken;
    private readonly InFlightWrites _writing = new();
    private readonly Lock _burstLock = new();
    private readonly Dictionary<string, (long Count, string? Reason)> _burst = new(StringComparer.Ordinal);
    private long _burstStarted = System.Diagnostics.Stopwatch.GetTimestamp();
    private static readonly TimeSpan BurstWindow = TimeSpan.FromSeconds(10);

    private TargetWriter(string name, IBatchTarget target, AckBlock acks, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded,
        Func<WriterInput, long>? rowsIn, bool rowsOutAreFeatures, CancellationToken cancellationToken)
    {
        _name = name;
        _target = target;
        _acks = acks;
        _cancellationToken = cancellationToken;
        Block = Writers.Create(name, metrics, bounded, async x =>
        {
            int written = await StartAsync(x);
            return rowsOutAreFeatures ? x.Batch!.Features.Length : written;
        }, rowsIn);
        _writing.Owner = Block;
    }

    /// <summary>The sink writer: its rows are the feature rows handed on.</summary>
    public static TargetWriter CreateSink(IBatchTarget target, AckBlock acks, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded,
        CancellationToken cancellationToken) => new(Sink, target, acks, metrics, bounded, null, true, cancellationToken);

    /// <summary>The dead-letter writer: its rows in are messages, its rows out the dead letters written.</summary>
    public static TargetWriter CreateDeadLetters(IBatchTarget target, AckBlock acks, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded,
        CancellationToken cancellationToken) => new(DeadLetter, target, acks, metrics, bounded, x => x.Batch!.Messages.Length, false, cancellationToken);

    /// <summary>The block: deliveries to write.</summary>
    public ActionBlock<WriterInput> Block { get; }

    /// <summary>Starts the write of <paramref name="x"/>; returns the records written when it was the only one allowed out, else 0 (counted when done).</summary>
    private async Task<int> StartAsync(WriterInput x)
    {
        var d = x.Delivery!;
        int limit = _target.WritesInFlight(d.Plan);
        int written = 0;
        await _writing.StartAsync(limit, async () =>
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            written = await Faults.GuardAsync(_name, x.Batch!.Messages, () => _target.WriteAsync(d.Plan, x.Batch, _cancellationToken));
            SluiceMetrics.Wrote(_name, written, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (_name == DeadLetter)
            {
                SluiceMetrics.DeadLettered(d.Plan.Name, written);
                Burst(d.Plan.Name, written, x.Batch.Reasons.FirstOrDefault(r => r is not null));
            }
            _acks.Done(d);
        });
        if (limit == 1) await _writing.DrainAsync();
        return written;
    }

    /// <summary>After the block completed: waits for every outstanding write.</summary>
    public async Task FinishAsync()
    {
        await _writing.DrainAsync();
        if (_name == DeadLetter) LogBurst();
    }

    // Dead letters are logged as bursts: one line per resolver and 10 s window that had any, with the count and a reason.
    private void Burst(string resolver, long count, string? reason)
    {
        if (count == 0) return;
        lock (_burstLock)
        {
            var (n, first) = _burst.GetValueOrDefault(resolver);
            _burst[resolver] = (n + count, first ?? reason);
        }
        if (System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _burstStarted)) >= BurstWindow) LogBurst();
    }

    private void LogBurst()
    {
        KeyValuePair<string, (long Count, string? Reason)>[] burst;
        double seconds;
        lock (_burstLock)
        {
            burst = _burst.ToArray();
            _burst.Clear();
            seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_burstStarted).TotalSeconds;
            _burstStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        var log = SluiceLog.For("Sluice.DeadLetters");
        foreach (var (resolver, (count, reason)) in burst)
            log.LogWarning("resolver {Resolver}: {Count} {Messages} dead-lettered in the last {Seconds:F0} s (one reason: {Reason})", resolver, count,
                count == 1 ? "message" : "messages", seconds, reason);
    }
}
