using System.Threading.Channels;
using Google.Cloud.PubSub.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Observability;

namespace Sluice.Sources;

/// <summary>How a Pub/Sub source reads.</summary>
public sealed record PubSubSourceOptions
{
    /// <summary>
    /// Flow control: messages delivered but not yet acknowledged, at most. Acknowledgement waits for every target, the
    /// offline store's included (its rows are durable when their Parquet file closes), so the window must cover what
    /// arrives while a file is open: the runner closes offline files every 2 s, and a million covers that at high rates.
    /// </summary>
    public int MaxOutstandingMessages { get; init; } = 1_000_000;
    /// <summary>The ack deadline asked for; messages in flight get it extended every third of it.</summary>
    public TimeSpan AckDeadline { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How often offline files close: messages stay unacknowledged (and count against flow control) until their rows are durable.</summary>
    public TimeSpan DurableWithin { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Reads one Pub/Sub subscription for one resolver with StreamingPull: flow control by outstanding messages, attributes
/// as headers (so header filters apply), publish time as the timestamp, ordering key as the key. A message is
/// acknowledged only once every target acknowledged it (<see cref="Acknowledged"/>); until then its ack deadline is
/// extended, and anything not acknowledged (a crash, a stop) is redelivered by Pub/Sub. Positions are
/// <c>subscription/0/offset</c>, offsets counted per run; each message also carries its Pub/Sub message id as header
/// <c>sluice-message-id</c>, which deduplication uses, so that a redelivery is processed again, not dropped.
/// </summary>
internal sealed class PubSubSource : IMessageSource
{
    private readonly ResolverPlan _plan;
    private readonly PubSubSourceOptions _options;
    private readonly SourceContext _context;
    private readonly GrpcChannel _channel;
    private readonly string _subscription, _name;
    private readonly Channel<MessageBatch> _out = Channel.CreateBounded<MessageBatch>(4);
    private readonly SortedDictionary<long, string> _inFlight = []; // offset -> ack id
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private AsyncDuplexStreamingCall<StreamingPullRequest, StreamingPullResponse>? _call;
    private long _next, _acknowledged;
    private DateTime _lastMessage = DateTime.UtcNow;

    private readonly SluiceHealth.Component _health;
    private readonly IDisposable _outstanding;

    /// <summary>Prepares the source of <paramref name="plan"/> (a <c>kind: pubsub</c> source).</summary>
    public PubSubSource(ResolverPlan plan, PubSubSourceOptions options, SourceContext context)
    {
        _health = SluiceHealth.Source($"source {plan.Source.Name} ({plan.Name})", "opening the stream");
        var gaugeTags = new KeyValuePair<string, object?>[] { new("source", plan.Source.Name), new("topic", plan.Source.Name), new("partition", 0) };
        _outstanding = SluiceMetrics.Observe(SluiceMetrics.Gauge.Lag, () =>
        {
            lock (_lock) return [new System.Diagnostics.Metrics.Measurement<long>(_inFlight.Count, gaugeTags)];
        });
        _plan = plan;
        _options = options;
        _context = context;
        _name = PubSubChannels.Option(plan.Source, "subscription_id");
        _subscription = $"projects/{PubSubChannels.Option(plan.Source, "project_id")}/subscriptions/{_name}";
        _channel = PubSubChannels.For(plan.Source);
    }

    /// <summary>Messages acknowledged to Pub/Sub so far.</summary>
    public long AcknowledgedCount => Interlocked.Read(ref _acknowledged);

    /// <summary>The subscription's messages as batches, until <paramref name="stop"/> or idle exit.</summary>
    public async IAsyncEnumerable<SourceEvent> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stop)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var client = new Subscriber.SubscriberClient(_channel);
        _call = client.StreamingPull(cancellationToken: reading.Token);
        try
        {
            await _call.RequestStream.WriteAsync(new StreamingPullRequest
            {
                Subscription = _subscription,
                StreamAckDeadlineSeconds = (int)_options.AckDeadline.TotalSeconds,
                MaxOutstandingMessages = _options.MaxOutstandingMessages,
                ClientId = Guid.NewGuid().ToString("N"),
            }, stop);
            _health.Ready();
        }
        catch (Exception e) when (stop.IsCancellationRequested && e is RpcException or OperationCanceledException)
        {
            _out.Writer.TryComplete(); // stopped while the stream opened: nothing was read
        }
        if (stop.IsCancellationRequested) yield break;
        _lastMessage = DateTime.UtcNow; // idleness counts from the open stream
        var pump = Task.Run(() => PumpAsync(reading.Token), CancellationToken.None);
        var keepAlive = Task.Run(() => ExtendAsync(reading.Token), CancellationToken.None);
        await foreach (var batch in _out.Reader.ReadAllAsync(CancellationToken.None)) yield return SourceEvent.Of(batch);
        await reading.CancelAsync();
        try { await Task.WhenAll(pump, keepAlive); }
        catch (OperationCanceledException) { }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled) { }
    }

    private async Task PumpAsync(CancellationToken ct)
    {
        try
        {
            var idle = Task.Run(async () =>
            {
                while (_context.IdleExit is { } limit && !ct.IsCancellationRequested)
                {
                    await Task.Delay(100, ct);
                    // What is in flight is acknowledged as the graph drains (by the unary Acknowledge once the stream is closed).
                    // Before the first message a subscription gets some grace: a fresh stream can take a moment to deliver.
                    if (DateTime.UtcNow - _lastMessage > (_next == 0 ? TimeSpan.FromTicks(Math.Max(limit.Ticks, TimeSpan.FromSeconds(5).Ticks)) : limit))
                    {
                        _out.Writer.TryComplete();
                        return;
                    }
                }
            }, CancellationToken.None);
            // Responses (up to a few hundred messages each) are gathered into batches of 4096, or fewer when the
            // stream pauses for 10 ms: the graph's cost is per batch.
            var stream = _call!.ResponseStream;
            var b = new MessageBatch.Builder();
            while (true)
            {
                var next = stream.MoveNext(ct);
                if (!next.IsCompleted && b.Length > 0 && await Task.WhenAny(next, Task.Delay(10, ct)) != next)
                {
                    await _out.Writer.WriteAsync(b.Build(), ct);
                    b = new MessageBatch.Builder();
                }
                if (!await next) break;
                var response = stream.Current;
                if (response.ReceivedMessages.Count == 0) continue;
                _lastMessage = DateTime.UtcNow;
                lock (_lock)
                {
                    foreach (var r in response.ReceivedMessages)
                    {
                        long offset = _next++;
                        _inFlight[offset] = r.AckId;
                        var m = r.Message;
                        long ts = m.PublishTime is { } t ? t.Seconds * 1_000_000 + t.Nanos / 1000 : 0;
                        var headers = m.Attributes.Select(a => KeyValuePair.Create(a.Key, System.Text.Encoding.UTF8.GetBytes(a.Value))).ToList();
                        headers.Add(KeyValuePair.Create(MessageBatch.MessageIdHeader, System.Text.Encoding.UTF8.GetBytes(m.MessageId)));
                        b.Append(_name, 0, offset, ts, m.OrderingKey.Length == 0 ? null : System.Text.Encoding.UTF8.GetBytes(m.OrderingKey), m.Data.ToByteArray(), headers);
                    }
                }
                if (b.Length >= 4096)
                {
                    await _out.Writer.WriteAsync(b.Build(), ct);
                    b = new MessageBatch.Builder();
                }
            }
            if (b.Length > 0) await _out.Writer.WriteAsync(b.Build(), ct);
            _out.Writer.TryComplete();
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException)
        {
            _out.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _out.Writer.TryComplete(new InvalidOperationException($"resolver {_plan.Name}: Pub/Sub subscription {_subscription}: {e.Message}", e));
        }
    }

    /// <summary>Extends the deadline of every message in flight every third of the ack deadline.</summary>
    private async Task ExtendAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(_options.AckDeadline / 3, ct);
            string[] ids;
            lock (_lock) ids = [.. _inFlight.Values];
            if (ids.Length == 0) continue;
            var request = new StreamingPullRequest();
            request.ModifyDeadlineAckIds.AddRange(ids);
            request.ModifyDeadlineSeconds.AddRange(ids.Select(_ => (int)_options.AckDeadline.TotalSeconds));
            await SendAsync(request, ct);
        }
    }

    private async Task SendAsync(StreamingPullRequest request, CancellationToken ct)
    {
        await _write.WaitAsync(ct);
        try { await _call!.RequestStream.WriteAsync(request, ct); }
        finally { _write.Release(); }
    }

    /// <inheritdoc/>
    public SourceTraits Traits => new() { Live = true, DurableWithin = _options.DurableWithin };

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => [];

    /// <inheritdoc/>
    public Exception? Fault => null;

    /// <summary>Called by the graph as the acknowledged prefix advances: acknowledges those messages to Pub/Sub.</summary>
    public void Acknowledged(string topic, int partition, long next)
    {
        if (topic != _name || _call is null) return;
        var request = new StreamingPullRequest();
        lock (_lock)
        {
            foreach (var offset in _inFlight.Keys.TakeWhile(o => o < next).ToList())
            {
                request.AckIds.Add(_inFlight[offset]);
                _inFlight.Remove(offset);
            }
        }
        if (request.AckIds.Count == 0) return;
        try
        {
            SendAsync(request, CancellationToken.None).GetAwaiter().GetResult();
            Interlocked.Add(ref _acknowledged, request.AckIds.Count);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or ObjectDisposedException)
        {
            // The stream is gone (stopping): Pub/Sub redelivers what was not acknowledged; at least once either way.
            _ = new SubscriberAcks(_channel, _subscription).TryAcknowledge(request.AckIds, ref _acknowledged);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _outstanding.Dispose();
        _health.Dispose();
        _call?.Dispose();
        _channel.Dispose();
        _write.Dispose();
        await Task.CompletedTask;
    }
}

/// <summary>Acknowledges with the unary Acknowledge call when the streaming pull is gone (its final acks as a run stops).</summary>
internal sealed class SubscriberAcks(GrpcChannel channel, string subscription)
{
    public bool TryAcknowledge(IEnumerable<string> ackIds, ref long acknowledged)
    {
        try
        {
            var request = new AcknowledgeRequest { Subscription = subscription };
            request.AckIds.AddRange(ackIds);
            new Subscriber.SubscriberClient(channel).Acknowledge(request);
            Interlocked.Add(ref acknowledged, request.AckIds.Count);
            return true;
        }
        catch (RpcException)
        {
            return false;
        }
    }
}
