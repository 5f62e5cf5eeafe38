using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Observability;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// Appends deliveries to the offline store. A delivery is done once every segment its rows went into has closed
/// (rolled by rows or age, or at the end); a tick closes the segments that are due, or all of them while a flush waits.
/// </summary>
internal sealed class OfflineWriter
{
    public const string Name = "offline";

    private readonly IOfflineStore _store;
    private readonly AckBlock _acks;
    private readonly FlushSignal _flush;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<string, List<Delivery>> _waiting = new(StringComparer.Ordinal);

    public OfflineWriter(IOfflineStore store, AckBlock acks, FlushSignal flush, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded,
        CancellationToken cancellationToken)
    {
        _store = store;
        _acks = acks;
        _flush = flush;
        _cancellationToken = cancellationToken;
        Block = Writers.Create(Name, metrics, bounded, WriteAsync);
    }

    /// <summary>The block: deliveries to write, and ticks.</summary>
    public ActionBlock<WriterInput> Block { get; }

    private async Task<long> WriteAsync(WriterInput x)
    {
        if (x.Batch is not { } b)
        {
            await Faults.GuardAsync(Name, null, () => _store.FlushAsync(all: _flush.Requested, _cancellationToken));
            Durable();
            return 0;
        }
        var d = x.Delivery!;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        var segments = await Faults.GuardAsync(Name, b.Messages, () => _store.WriteAsync(d.Plan, b, _cancellationToken));
        SluiceMetrics.Wrote(Name, b.Features.Length, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        d.PendingOfflineSegments = segments.Count;
        foreach (var segment in segments)
        {
            if (!_waiting.TryGetValue(segment, out var list)) _waiting[segment] = list = [];
            list.Add(d);
        }
        if (segments.Count == 0) _acks.Done(d);
        Durable();
        return b.Features.Length;
    }

    /// <summary>Completes the deliveries whose last segment closed.</summary>
    private void Durable()
    {
        foreach (var segment in _store.TakeDurable())
            if (_waiting.Remove(segment, out var deliveries))
                foreach (var d in deliveries)
                    if (--d.PendingOfflineSegments == 0) _acks.Done(d);
    }

    /// <summary>After the block completed: closes every segment.</summary>
    public async Task FinishAsync()
    {
        await Faults.GuardAsync(Name, null, () => _store.FlushAsync(all: true, _cancellationToken));
        Durable();
    }
}
