using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Observability;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Messages;
using System.Runtime.CompilerServices;

namespace Sluice.Sources;

/// <summary>How a Kafka source batches and commits.</summary>
public sealed record KafkaSourceOptions
{
    /// <summary>Messages per batch handed to the graph.</summary>
    public int BatchSize { get; init; } = 4096;
    /// <summary>How long the first message of a batch waits for the batch to fill.</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(50);
    /// <summary>How often acknowledged offsets are committed to the group.</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How often offline files close, so that offsets advance (rows are durable, and committable, once their file closed).</summary>
    public TimeSpan DurableWithin { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Reads one resolver's Kafka topic in the resolver's own consumer group (DESIGN.md sections 4 and 8) and hands the
/// block graph batches of messages, at least once:
/// <list type="bullet">
/// <item>A message whose headers fail the resolver's header filters is handed on without its payload (the graph counts
/// it <c>filtered</c> from its headers); nothing of it is kept but its headers and position.</item>
/// <item>Offsets are committed only as the graph reports them (<see cref="Acknowledged"/>): the contiguous prefix whose
/// every target acknowledged. Auto-commit and auto offset store are off.</item>
/// <item>When partitions are revoked, the consumer thread hands the graph a flush request and waits until everything
/// read so far is durable, commits the revoked partitions' offsets, and only then lets the rebalance go on.</item>
/// </list>
/// Feature time defaults to the Kafka message timestamp (the graph's default: the message timestamp).
/// </summary>
internal sealed class KafkaSource : IMessageSource
{
    private readonly ResolverPlan _plan;
    private readonly KafkaSettings _settings;
    private readonly KafkaSourceOptions _options;
    private readonly SourceContext _context;
    private readonly (string Name, byte[][] Values)[] _filters;
    private readonly ConcurrentDictionary<TopicPartition, long> _committable = new();
    private readonly Dictionary<TopicPartition, long> _committed = [];
    private readonly Channel<SourceEvent> _events = Channel.CreateBounded<SourceEvent>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly IConsumer<bool, bool> _consumer;
    private readonly Reused _keys = new(), _values = new();
    private MessageBatch.Builder _builder;
    private long _firstWaiting;
    private Thread? _thread;
    private long _consumed;
    private CancellationTokenRegistration _stopRegistration;
    private long _failedCommits;
    private readonly ManualResetEventSlim _drained = new();
    private volatile bool _draining;
    private int _assigned; // partitions assigned now (the rebalance handlers run on the consumer thread)
    private bool _joined; // the group assigned this member its share (possibly none), and has not lost it since
    private long _lastActivity; // Stopwatch timestamp of the last message or assignment change
    private readonly BrokerWatch _brokers; // a wait for brokers that are down is not idle
    private long[] _positions = new long[16]; // next offset to read per partition (-1: none read yet), for the lag gauge
    private readonly ILogger _log = SluiceLog.For("Sluice.Kafka");
    private readonly SluiceHealth.Component _health;
    private readonly IDisposable _lagGauge, _committedGauge;

    /// <summary>A consumer for <paramref name="plan"/>'s source, in group <c>group_id_prefix + resolver name</c>.</summary>
    public KafkaSource(ResolverPlan plan, KafkaSourceOptions options, SourceContext context)
    {
        KafkaNative.EnsureLoaded();
        _plan = plan;
        _settings = new KafkaSettings(plan.Source);
        _brokers = new BrokerWatch(_settings.Topic);
        _options = options;
        _context = context;
        _builder = new MessageBatch.Builder(_options.BatchSize);
        _filters = plan.HeaderFiltersByName.ToArray();
        var config = _settings.Over(new ConsumerConfig
        {
            GroupId = _settings.GroupId(plan),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Incremental rebalancing: a member gives up only the partitions that move, and commits them while the group
            // is stable (an eager revocation commits while the broker reports "rebalance in progress").
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            // The source reads one topic, whose name it knows: no topic name decoded into a new string per message.
            ConsumeResultFields = "headers,timestamp",
            GroupInstanceId = _settings.GroupInstanceId,
            SessionTimeoutMs = _settings.SessionTimeoutMs,
        }.WithPrefetch(), plan.Name);
        _health = SluiceHealth.Source($"source {plan.Source.Name} ({plan.Name})", "waiting for a partition assignment");
        // Waiting for a broker is a readiness state and a log line, never idleness and never a success.
        var kafkaLog = new KafkaLog(plan.Name)
        {
            OnTransportError = e =>
            {
                _brokers.Saw(e);
                if (!_joined && e.Code is ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport or ErrorCode.Local_Resolve)
                    _health.NotReadyBecause($"waiting for the brokers ({_settings.BootstrapServers}): {e.Reason}");
            },
        };
        _consumer = new ConsumerBuilder<bool, bool>(config)
            .SetKeyDeserializer(_keys)
            .SetValueDeserializer(_values)
            .SetPartitionsAssignedHandler((_, assigned) =>
            {
                _assigned += assigned.Count;
                _joined = true;
                _lastActivity = Stopwatch.GetTimestamp();
                int highest = assigned.Count == 0 ? -1 : assigned.Max(tp => tp.Partition.Value);
                if (highest >= _positions.Length)
                {
                    var grown = new long[Math.Max(highest + 1, _positions.Length * 2)];
                    _positions.CopyTo(grown, 0);
                    Array.Fill(grown, -1, _positions.Length, grown.Length - _positions.Length);
                    _positions = grown;
                }
                foreach (var tp in assigned) _positions[tp.Partition.Value] = -1; // read from its commit on, not from where an earlier assignment left it
                _health.Ready();
                _log.LogInformation("source {Source}: {Count} partitions of {Topic} assigned ({Partitions}); {Total} held", plan.Source.Name, assigned.Count,
                    _settings.Topic, string.Join(",", assigned.Select(tp => tp.Partition.Value)), _assigned);
            })
            .SetPartitionsRevokedHandler((_, revoked) =>
            {
                OnRevoked(revoked);
                _assigned -= revoked.Count;
                _lastActivity = Stopwatch.GetTimestamp();
                _log.LogInformation("source {Source}: {Count} partitions of {Topic} revoked ({Partitions}) after committing what was written; {Total} held",
                    plan.Source.Name, revoked.Count, _settings.Topic, string.Join(",", revoked.Select(tp => tp.Partition.Value)), _assigned);
            })
            .SetPartitionsLostHandler((c, lost) =>
            {
                foreach (var tp in lost) _committable.TryRemove(tp.TopicPartition, out _);
                _assigned -= lost.Count;
                _joined = false; // the member rejoins: waiting for its next assignment is not idle
                _lastActivity = Stopwatch.GetTimestamp();
                _log.LogWarning("source {Source}: {Count} partitions of {Topic} lost ({Partitions}): their next owner reads them from their last commit",
                    plan.Source.Name, lost.Count, _settings.Topic, string.Join(",", lost.Select(tp => tp.Partition.Value)));
            })
            .SetLogHandler((_, m) => kafkaLog.Log(m))
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal) Fault = new KafkaException(e);
                else kafkaLog.Error(e);
            })
            .Build();
        Array.Fill(_positions, -1);
        var source = new KeyValuePair<string, object?>("source", plan.Source.Name);
        _lagGauge = SluiceMetrics.Observe(SluiceMetrics.Gauge.Lag, () => Lag(source));
        _committedGauge = SluiceMetrics.Observe(SluiceMetrics.Gauge.CommittedOffset, () =>
        {
            lock (_committed) return _committed.Select(kv => new Measurement<long>(kv.Value, source,
                new("topic", kv.Key.Topic), new("partition", kv.Key.Partition.Value))).ToList();
        });
    }

    // Messages behind the end per assigned partition: the high watermark of the last fetch minus the next offset to read
    // (before any was read, minus the committed offset if known).
    private List<Measurement<long>> Lag(KeyValuePair<string, object?> source)
    {
        var lag = new List<Measurement<long>>();
        foreach (var tp in _consumer.Assignment)
        {
            var marks = _consumer.GetWatermarkOffsets(tp);
            if (marks.High.Value < 0) continue;
            var positions = _positions;
            long next = tp.Partition.Value < positions.Length ? Volatile.Read(ref positions[tp.Partition.Value]) : -1;
            if (next < 0)
                lock (_committed) next = _committed.TryGetValue(tp, out var c) ? c : marks.Low.Value;
            lag.Add(new Measurement<long>(Math.Max(0, marks.High.Value - next), source, new("topic", tp.Topic), new("partition", tp.Partition.Value)));
        }
        return lag;
    }

    /// <summary>Messages consumed so far.</summary>
    public long Consumed => Interlocked.Read(ref _consumed);

    /// <summary>Offset commits the broker refused (retried at the next commit).</summary>
    public long FailedCommits => Interlocked.Read(ref _failedCommits);

    /// <summary>Why the last refused commit was refused.</summary>
    public string? LastCommitError { get; private set; }

    /// <inheritdoc/>
    public Exception? Fault { get; private set; }

    /// <inheritdoc/>
    public SourceTraits Traits => new() { Live = true, BatchSize = _options.BatchSize, DurableWithin = _options.DurableWithin };

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => FailedCommits == 0 ? [] :
    [
        $"resolver {_plan.Name}: the broker refused {FailedCommits} offset commit(s) (last: {LastCommitError}); "
        + "they were retried, and a partition that moved meanwhile is read again from its last commit by its next owner",
    ];

    /// <summary>The events for the graph: batches as they fill or linger, flush requests on revocation. Ends when stopped or idle.</summary>
    public IAsyncEnumerable<SourceEvent> ReadAsync(CancellationToken stop)
    {
        if (_thread is not null) throw new InvalidOperationException("a Kafka source is read once");
        _stopRegistration = stop.Register(_stop.Cancel);
        _thread = new Thread(Consume) { IsBackground = true, Name = $"kafka {_plan.Name}" };
        _thread.Start();
        return _events.Reader.ReadAllAsync(CancellationToken.None);
    }

    /// <inheritdoc/>
    public void Acknowledged(string topic, int partition, long next) =>
        _committable.AddOrUpdate(new TopicPartition(topic, partition), next, (_, old) => Math.Max(old, next));

    private void Consume()
    {
        try
        {
            _consumer.Subscribe(_settings.Topic);
            // One clock read per message, after it arrives: the batch's linger, the idle limit and the commit interval
            // all measure from it (reading the clock for each spent a tenth of this thread's time).
            long now = Stopwatch.GetTimestamp(), lastCommit = now;
            _lastActivity = now;
            while (!_stop.IsCancellationRequested && Fault is null)
            {
                var wait = _builder.Length > 0 ? _options.Linger - Stopwatch.GetElapsedTime(_firstWaiting, now) : TimeSpan.FromMilliseconds(100);
                var r = _consumer.Consume(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
                now = Stopwatch.GetTimestamp();
                if (r is { IsPartitionEOF: false, Message: not null })
                {
                    Append(r, now);
                    _lastActivity = now;
                    if (_builder.Length >= _options.BatchSize) Emit();
                }
                if (_builder.Length > 0 && Stopwatch.GetElapsedTime(_firstWaiting, now) >= _options.Linger) Emit();
                if (Stopwatch.GetElapsedTime(lastCommit, now) >= _options.CommitInterval)
                {
                    CommitAcknowledged(null);
                    lastCommit = now;
                }
                if (_brokers.Down)
                {
                    _lastActivity = now;
                    if (_brokers.Probe(_consumer)) _log.LogInformation("source {Source}: the brokers answer again", _plan.Source.Name);
                    now = Stopwatch.GetTimestamp();
                }
                if (_context.IdleExit is { } idle && _builder.Length == 0 && Stopwatch.GetElapsedTime(_lastActivity, now) >= IdleLimit(idle)) break;
                if (_context.MaxMessages is { } max && Consumed >= max) break;
            }
            Emit();
            _events.Writer.TryComplete(Fault);
        }
        catch (OperationCanceledException) { _events.Writer.TryComplete(); }
        catch (Exception e) { _events.Writer.TryComplete(e); }
        Drain();
    }

    // Idle means no message since the group assigned this member its partitions (the clock restarts at every
    // assignment change). Waiting for the group is not idle: a restarted member waits for the dead one's session to time
    // out before it gets partitions, and stopping meanwhile would read nothing. A member the group gave no partitions
    // (more members than partitions) has read all of its share, and is idle. Nor is a wait for brokers that are down.
    private TimeSpan IdleLimit(TimeSpan idle) => _joined ? idle : TimeSpan.MaxValue;

    // After the last batch: the graph drains on other threads while this thread keeps serving the group (rebalances,
    // heartbeats, max.poll.interval) with its partitions paused; messages of partitions assigned meanwhile are not handed
    // on (nothing commits them, so their next reader reads them). Once the graph has drained, everything it
    // acknowledged is committed, retried while the group settles (a member leaving at the same moment makes the broker
    // refuse commits until the rebalance completes), and the consumer leaves its group.
    private void Drain()
    {
        _draining = true;
        try
        {
            _consumer.Pause(_consumer.Assignment);
            while (!_drained.Wait(0)) _consumer.Consume(TimeSpan.FromMilliseconds(100));
            var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * (long)FinalCommitWindow.TotalSeconds;
            bool committed;
            while (!(committed = CommitAcknowledged(null)) && Stopwatch.GetTimestamp() < until) _consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (!committed)
            {
                // Said, not swallowed: the run ends non-zero, and the next run reads these partitions again from their last commit.
                var pending = Uncommitted();
                Fault ??= new InvalidOperationException($"the final offset commit was refused for {FinalCommitWindow.TotalSeconds:F0} s ({LastCommitError}); "
                    + $"uncommitted: {string.Join(", ", pending.Select(p => $"{p.Topic}[{p.Partition.Value}] up to {p.Offset.Value}"))}; the next run reads them again");
            }
            _consumer.Close();
        }
        catch (KafkaException e)
        {
            Fault ??= e;
        }
    }

    // Runs per message: optimized from its first call, rather than after tiering up (a short run spent its first seconds
    // in unoptimized code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Append(ConsumeResult<bool, bool> r, long now)
    {
        if (_builder.Length == 0) _firstWaiting = now;
        var m = r.Message;
        KeyValuePair<string, byte[]>[]? headers = null;
        if (m.Headers is { Count: > 0 } h)
        {
            headers = new KeyValuePair<string, byte[]>[h.Count];
            for (int i = 0; i < headers.Length; i++) headers[i] = new(h[i].Key, h[i].GetValueBytes() ?? []);
        }
        long ts = m.Timestamp.Type == TimestampType.NotAvailable ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 : m.Timestamp.UnixTimestampMs * 1000;
        // A message the header filters reject keeps its headers (the graph counts it filtered) but not its payload.
        bool keep = m.Value && Passes(headers);
        _builder.Append(_settings.Topic, r.Partition.Value, r.Offset.Value, ts, _keys.Span, !m.Key, _values.Span, !keep, headers);
        var positions = _positions;
        if (r.Partition.Value < positions.Length) positions[r.Partition.Value] = r.Offset.Value + 1;
        Volatile.Write(ref _consumed, _consumed + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Passes(KeyValuePair<string, byte[]>[]? headers)
    {
        foreach (var (name, accepted) in _filters)
        {
            bool found = false;
            if (headers is not null)
                foreach (var (n, v) in headers)
                    if (n == name && Accepts(accepted, v)) { found = true; break; }
            if (!found) return false;
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Accepts(byte[][] accepted, byte[] value)
    {
        foreach (var a in accepted)
            if (a.AsSpan().SequenceEqual(value)) return true;
        return false;
    }

    private void Emit()
    {
        if (_builder.Length == 0) return;
        // The next batch is sized like this one, so that its buffers are allocated once rather than grown by doubling.
        int bytes = _builder.ValueBytes;
        var batch = _builder.Build();
        _builder = new MessageBatch.Builder(_options.BatchSize, bytes + bytes / 8);
        _events.Writer.WriteAsync(SourceEvent.Of(batch), _stop.Token).AsTask().GetAwaiter().GetResult();
    }

    // On the consumer thread, inside Consume: the rebalance waits until the revoked partitions are committed.
    private void OnRevoked(List<TopicPartitionOffset> revoked)
    {
        // Stopping (or closing after the graph drained): whatever was acknowledged is committed below; anything else
        // is read again by the partition's next owner.
        if (!_stop.IsCancellationRequested && !_draining)
        {
            try
            {
                Emit();
                var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _events.Writer.WriteAsync(SourceEvent.Flush(flushed), _stop.Token).AsTask().GetAwaiter().GetResult();
                flushed.Task.Wait(_stop.Token);
            }
            catch (OperationCanceledException) { }
        }
        // A rebalance in progress refuses commits for a moment: retried briefly, then said (the next owner re-reads them).
        var moving = revoked.Select(x => x.TopicPartition).ToHashSet();
        bool done = false;
        for (int attempt = 0; attempt < 10 && !(done = CommitAcknowledged(moving)); attempt++) Thread.Sleep(200);
        if (!done)
            _log.LogWarning("source {Source}: the commit of {Count} revoked partitions was refused ({Reason}); their next owner reads them again from their last commit",
                _plan.Source.Name, moving.Count, LastCommitError);
        foreach (var tp in revoked) _committable.TryRemove(tp.TopicPartition, out _);
    }

    /// <summary>How long the final commit is retried (a group rebalancing refuses commits until it settles).</summary>
    public static readonly TimeSpan FinalCommitWindow = TimeSpan.FromSeconds(20);

    // Acknowledged offsets of assigned partitions that were not committed.
    private List<TopicPartitionOffset> Uncommitted()
    {
        var assigned = _consumer.Assignment.ToHashSet();
        lock (_committed)
            return _committable.Where(kv => assigned.Contains(kv.Key) && (!_committed.TryGetValue(kv.Key, out var c) || c < kv.Value))
                .Select(kv => new TopicPartitionOffset(kv.Key, kv.Value)).ToList();
    }

    /// <summary>
    /// Commits the acknowledged offsets that moved since the last commit, for <paramref name="only"/> or every assigned
    /// partition; false when the broker refused.
    /// </summary>
    private bool CommitAcknowledged(HashSet<TopicPartition>? only)
    {
        var assigned = only ?? _consumer.Assignment.ToHashSet();
        var offsets = _committable
            .Where(kv => assigned.Contains(kv.Key) && (!_committed.TryGetValue(kv.Key, out var c) || c < kv.Value))
            .Select(kv => new TopicPartitionOffset(kv.Key, kv.Value)).ToList();
        if (offsets.Count == 0) return true;
        try
        {
            _consumer.Commit(offsets);
            lock (_committed) foreach (var o in offsets) _committed[o.TopicPartition] = o.Offset.Value;
            SluiceMetrics.Committed(_plan.Source.Name);
            return true;
        }
        catch (KafkaException e) when (!e.Error.IsFatal)
        {
            // Not committed: the next commit retries, and a partition that moved on is read again by its next owner
            // from its last commit (at least once). Counted, so that a run can report it.
            Interlocked.Increment(ref _failedCommits);
            LastCommitError = e.Error.Reason;
            SluiceMetrics.Retried("kafka");
            _log.LogWarning("source {Source}: the broker refused a commit of {Count} partitions ({Reason}); retried at the next commit", _plan.Source.Name, offsets.Count, e.Error.Reason);
            return false;
        }
    }

    /// <summary>
    /// Commits every acknowledged offset and leaves the group. Call after the graph has drained (every position it
    /// read is then acknowledged), so that a clean stop commits everything.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _lagGauge.Dispose();
        _committedGauge.Dispose();
        _health.Dispose();
        await _stopRegistration.DisposeAsync();
        await _stop.CancelAsync();
        _drained.Set();
        if (_thread is not null) await Task.Run(() => _thread.Join());
        else _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
        _drained.Dispose();
    }

    /// <summary>
    /// Holds the key or the value of the message being consumed in one buffer reused for every message, rather than in
    /// a new array per message: Confluent.Kafka hands a deserializer a span over librdkafka's memory, and the batch
    /// builder copies it from here. The deserialized value says whether the message had one (false: null).
    /// </summary>
    private sealed class Reused : IDeserializer<bool>
    {
        private byte[] _buffer = new byte[1024];
        private int _length;

        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

        public bool Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
        {
            _length = 0;
            if (isNull) return false;
            if (data.Length > _buffer.Length) _buffer = new byte[Math.Max(data.Length, _buffer.Length * 2)];
            data.CopyTo(_buffer);
            _length = data.Length;
            return true;
        }
    }
}
