using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Observability;

namespace Sluice.Sources;

/// <summary>How a Kinesis source reads.</summary>
public sealed record KinesisSourceOptions
{
    /// <summary>The checkpoint file's name (SQLite) in the run's state folder, shared by every resolver and stream.</summary>
    public const string CheckpointFile = "kinesis-checkpoints.db";
    /// <summary>Records asked of one GetRecords call (the service allows 10,000).</summary>
    public int Limit { get; init; } = 10_000;
    /// <summary>How long a caught-up shard waits before asking again.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>How often the shard list is read again (resharding: children start once their parents are finished).</summary>
    public TimeSpan ShardRefresh { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How often offline files close, so that checkpoints advance.</summary>
    public TimeSpan DurableWithin { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Reads one Kinesis stream for one resolver: every shard by its own reader, children of a split or merge only after
/// their parents were read to the end (so a key's records enter the graph in order), the approximate arrival time as
/// the message timestamp. A shard's checkpoint (sequence number) advances only over the prefix every target
/// acknowledged (<see cref="Acknowledged"/>), so a crash re-reads at most an unacknowledged tail. Positions are
/// <c>stream/shard number/offset</c>, offsets counted per shard from the checkpoint (stable across restarts).
/// </summary>
internal sealed class KinesisSource : IMessageSource
{
    private readonly ResolverPlan _plan;
    private readonly KinesisSourceOptions _options;
    private readonly SourceContext _context;
    private readonly KinesisClient _client;
    private readonly string _stream;
    private readonly string _startPosition;
    private readonly Channel<MessageBatch> _out = Channel.CreateBounded<MessageBatch>(4);
    private readonly ConcurrentDictionary<int, ShardState> _shards = new();
    private KinesisCheckpoints? _checkpoints;
    private long _lastRecordTicks = DateTime.UtcNow.Ticks;

    private sealed class ShardState(string id)
    {
        public string Id { get; } = id;
        public readonly Lock Lock = new();
        public readonly SortedDictionary<long, string> Sequences = []; // offset -> sequence number, read but not checkpointed
        public long Next; // next offset to hand out
        public long BehindMs = -1; // MillisBehindLatest of the last read (-1: none yet)
        public long Acknowledged; // next offset not yet acknowledged
        public bool Ended; // read to SHARD_END
        public bool Finished; // ended and fully acknowledged
        public bool CaughtUp;
    }

    private readonly SluiceHealth.Component _health;
    private readonly IDisposable _lagTime;

    /// <summary>Prepares the source of <paramref name="plan"/> (a <c>kind: kinesis</c> source).</summary>
    public KinesisSource(ResolverPlan plan, KinesisSourceOptions options, SourceContext context)
    {
        _health = SluiceHealth.Source($"source {plan.Source.Name} ({plan.Name})", "listing the stream's shards");
        _lagTime = SluiceMetrics.Observe(SluiceMetrics.Gauge.LagTime, () => _shards.Values.Where(s => Volatile.Read(ref s.BehindMs) >= 0 && !s.Ended)
            .Select(s => new System.Diagnostics.Metrics.Measurement<long>(Volatile.Read(ref s.BehindMs), new("source", plan.Source.Name), new("topic", _stream), new("partition", s.Id)))
            .ToList());
        _plan = plan;
        _options = options;
        _context = context;
        _client = KinesisClient.For(plan.Source);
        _stream = plan.Source.Options.TryGetValue("stream_name", out var s) ? s.Value
            : throw new Sluice.Pipeline.Runtime.RunSetupException($"source {plan.Source.Name}: a kinesis source needs stream_name");
        _startPosition = plan.Source.Options.TryGetValue("start_position", out var p) ? p.Value.ToUpperInvariant() : "TRIM_HORIZON";
        if (_startPosition is not ("TRIM_HORIZON" or "LATEST"))
            throw new Sluice.Pipeline.Runtime.RunSetupException($"source {plan.Source.Name}: start_position '{_startPosition}' is not TRIM_HORIZON or LATEST");
    }

    /// <summary>Messages read so far.</summary>
    public long Read { get; private set; }

    /// <inheritdoc/>
    public SourceTraits Traits => new() { Live = true, DurableWithin = _options.DurableWithin };

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => [];

    /// <inheritdoc/>
    public Exception? Fault => null;

    /// <summary>The stream's batches as they are read, until <paramref name="stop"/> or idle exit.</summary>
    public async IAsyncEnumerable<SourceEvent> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stop)
    {
        _checkpoints = await KinesisCheckpoints.OpenAsync(Path.Combine(_context.StateDirectory, KinesisSourceOptions.CheckpointFile), stop);
        using var readers = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var scheduler = Task.Run(() => ScheduleAsync(readers.Token), CancellationToken.None);
        await foreach (var batch in _out.Reader.ReadAllAsync(CancellationToken.None))
        {
            Read += batch.Length;
            yield return SourceEvent.Of(batch);
        }
        await readers.CancelAsync();
        await scheduler;
    }

    /// <summary>Called by the graph as the acknowledged prefix of a shard advances: checkpoints it.</summary>
    public void Acknowledged(string topic, int partition, long next)
    {
        if (topic != _stream || !_shards.TryGetValue(partition, out var shard) || _checkpoints is null) return;
        string? sequence = null;
        bool finished;
        lock (shard.Lock)
        {
            if (next <= shard.Acknowledged) return;
            foreach (var offset in shard.Sequences.Keys.TakeWhile(o => o < next).ToList())
            {
                sequence = shard.Sequences[offset];
                shard.Sequences.Remove(offset);
            }
            shard.Acknowledged = next;
            finished = shard.Finished = shard.Ended && next >= shard.Next;
        }
        if (sequence is not null || finished) _checkpoints.Set(_plan.Name, _stream, shard.Id, sequence ?? _checkpoints.Get(_plan.Name, _stream, shard.Id)?.Sequence, next - 1, finished);
    }

    private async Task ScheduleAsync(CancellationToken ct)
    {
        var running = new List<Task>();
        var started = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var listed = DateTime.MinValue;
        List<KinesisShard> shards = [];
        while (!ct.IsCancellationRequested)
            {
                if (DateTime.UtcNow - listed >= _options.ShardRefresh || _shards.Values.Any(s => s.Ended && !started.Contains(s.Id + "/children")))
                {
                    shards = await _client.ListShardsAsync(_stream, ct);
                    _health.Ready();
                    listed = DateTime.UtcNow;
                    foreach (var f in _shards.Values.Where(s => s.Ended)) started.Add(f.Id + "/children");
                }
                var ids = shards.Select(s => s.ShardId).ToHashSet(StringComparer.Ordinal);
                foreach (var shard in shards.Where(s => !started.Contains(s.ShardId)))
                {
                    if (!ParentsFinished(shard, ids)) continue;
                    started.Add(shard.ShardId);
                    running.Add(ReadShardAsync(shard, ct));
                }
                if (running.FirstOrDefault(t => t.IsFaulted) is { } failed) await failed;
                if (_context.IdleExit is { } idle && ids.All(started.Contains) && _shards.Values.All(s => s.CaughtUp || s.Ended)
                    && DateTime.UtcNow.Ticks - Interlocked.Read(ref _lastRecordTicks) > idle.Ticks)
                    break;
                await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            _out.Writer.TryComplete(new InvalidOperationException($"resolver {_plan.Name}: Kinesis stream {_stream}: {e.Message}", e));
            return;
        }
        _out.Writer.TryComplete();
        try { await Task.WhenAll(running); }
        catch (OperationCanceledException) { }
    }

    private bool ParentsFinished(KinesisShard shard, HashSet<string> listed)
    {
        foreach (var parent in new[] { shard.ParentShardId, shard.AdjacentParentShardId })
        {
            if (parent is null || !listed.Contains(parent)) continue; // a parent past retention is done
            var state = _shards.Values.FirstOrDefault(s => s.Id == parent);
            if (state is not null ? !state.Ended : _checkpoints!.Get(_plan.Name, _stream, parent) is not { Finished: true }) return false;
        }
        return true;
    }

    private async Task ReadShardAsync(KinesisShard shard, CancellationToken ct)
    {
        var state = new ShardState(shard.ShardId);
        var checkpoint = _checkpoints!.Get(_plan.Name, _stream, shard.ShardId);
        state.Next = state.Acknowledged = checkpoint is { } c ? c.Offset + 1 : 0;
        _shards[shard.Ordinal] = state;
        if (checkpoint is { Finished: true })
        {
            state.Ended = state.Finished = true;
            return;
        }
        await Task.Yield();
        var iterator = checkpoint?.Sequence is { } sequence
            ? await _client.GetShardIteratorAsync(_stream, shard.ShardId, "AFTER_SEQUENCE_NUMBER", sequence, ct)
            : await _client.GetShardIteratorAsync(_stream, shard.ShardId, _startPosition, null, ct);
        while (!ct.IsCancellationRequested)
        {
            var (records, next, behind) = await _client.GetRecordsAsync(iterator, _options.Limit, ct);
            if (records.Count > 0)
            {
                Interlocked.Exchange(ref _lastRecordTicks, DateTime.UtcNow.Ticks);
                var b = new MessageBatch.Builder();
                lock (state.Lock)
                {
                    foreach (var r in records)
                    {
                        long offset = state.Next++;
                        state.Sequences[offset] = r.SequenceNumber;
                        b.Append(_stream, shard.Ordinal, offset, (r.ApproximateArrivalTimestamp.Ticks - DateTime.UnixEpoch.Ticks) / 10,
                            Encoding.UTF8.GetBytes(r.PartitionKey), r.Data);
                    }
                }
                await _out.Writer.WriteAsync(b.Build(), ct);
            }
            state.CaughtUp = records.Count == 0 && behind == 0;
            Volatile.Write(ref state.BehindMs, behind);
            if (next is null)
            {
                lock (state.Lock)
                {
                    state.Ended = true;
                    if (state.Acknowledged >= state.Next) state.Finished = true;
                }
                if (state.Finished) _checkpoints.Set(_plan.Name, _stream, shard.ShardId, checkpoint?.Sequence, state.Next - 1, true);
                return;
            }
            iterator = next;
            if (records.Count == 0) await Task.Delay(_options.Poll, ct);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _lagTime.Dispose();
        _health.Dispose();
        _client.Dispose();
        if (_checkpoints is not null) await _checkpoints.DisposeAsync();
    }
}
