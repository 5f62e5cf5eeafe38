using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using Apache.Arrow;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Observability;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// Stages deliveries and writes them to the online store as one group (group commit) once enough rows wait or the
/// oldest has waited long enough; ticks let an idle stream's last rows commit too, and a waiting flush commits at once.
/// A group is written in the background while the next one stages; as many writes are in flight at once as the store's
/// <see cref="OnlineWriteShape"/> allows (one for a file, several for a server), started in staging order. A delivery
/// is done when the group holding it was written.
/// </summary>
internal sealed class OnlineWriter
{
    public const string Name = "online";

    private readonly IOnlineStore _store;
    private readonly IStagingOnlineStore? _staging; // prepares each batch here, while the previous group is written
    private readonly AckBlock _acks;
    private readonly FlushSignal _flush;
    private readonly int _commitRows, _writesInFlight;
    private readonly TimeSpan _commitInterval;
    private readonly CancellationToken _cancellationToken;
    private readonly List<(Delivery Delivery, RecordBatch Features, object? Staged)> _group = [];
    private int _rows;
    private long _groupStarted;
    private readonly InFlightWrites _writing = new();

    public OnlineWriter(IOnlineStore store, GraphOptions options, AckBlock acks, FlushSignal flush, GraphMetrics metrics,
        ExecutionDataflowBlockOptions bounded, CancellationToken cancellationToken)
    {
        _store = store;
        _staging = store as IStagingOnlineStore;
        _acks = acks;
        _flush = flush;
        _commitRows = store.WriteShape.GroupRows ?? options.Tuning.CommitRows;
        _writesInFlight = Math.Max(1, store.WriteShape.WritesInFlight);
        _commitInterval = options.Tuning.CommitInterval;
        _cancellationToken = cancellationToken;
        Block = Writers.Create(Name, metrics, bounded, StageAsync);
        _writing.Owner = Block;
    }

    /// <summary>The block: deliveries to write, and ticks.</summary>
    public ActionBlock<WriterInput> Block { get; }

    private async Task<long> StageAsync(WriterInput x)
    {
        if (x.Batch is { } b)
        {
            if (_group.Count == 0) _groupStarted = Stopwatch.GetTimestamp();
            var d = x.Delivery!;
            var staged = _staging is null ? null : Faults.Guard(Name, b.Messages, () => _staging.Stage(d.Plan, b.Features));
            _group.Add((d, b.Features, staged)); // rows only: the raw messages may go
            _rows += b.Features.Length;
        }
        if (_rows >= _commitRows || (_group.Count > 0 && (_flush.Requested || Stopwatch.GetElapsedTime(_groupStarted) >= _commitInterval)))
            await WriteGroupAsync(x.Batch?.Messages);
        return x.Batch?.Features.Length ?? 0;
    }

    private async Task WriteGroupAsync(MessageBatch? at)
    {
        if (_group.Count == 0) return;
        var group = _group.ToArray();
        _group.Clear();
        _rows = 0;
        // One write at a time (a file's commit) runs off this thread; a store with several in flight sends its requests
        // from here, so that they go out in staging order.
        await _writing.StartAsync(_writesInFlight, () => _writesInFlight == 1 ? Task.Run(Write, CancellationToken.None) : Write());
        async Task Write()
        {
            long started = Stopwatch.GetTimestamp();
            await Faults.GuardAsync(Name, at, () => _staging is not null
                ? _staging.WriteStagedAsync(group.Select(x => x.Staged!).ToList(), _cancellationToken)
                : _store.WriteAsync(group.Select(x => (x.Delivery.Plan, x.Features)).ToList(), _cancellationToken));
            SluiceMetrics.Wrote(Name, group.Sum(x => (long)x.Features.Length), Stopwatch.GetElapsedTime(started).TotalSeconds);
            foreach (var x in group) _acks.Done(x.Delivery);
        }
    }

    /// <summary>After the block completed: writes what is staged and waits for every write.</summary>
    public async Task FinishAsync()
    {
        await WriteGroupAsync(null);
        await _writing.DrainAsync();
    }
}
