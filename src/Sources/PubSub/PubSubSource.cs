using System.Threading.Channels;
using Google.Cloud.PubSub.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
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
/// acknowledged only once every target acknowledged it (<see cref="Acknowledged"/>), by unary Acknowledge calls that
/// are retried, each ack id once; until then its ack deadline is extended, and anything not acknowledged (a crash, a
/// stop) is redelivered by Pub/Sub. A stream the server closes or that fails with UNAVAILABLE, DEADLINE_EXCEEDED,
/// INTERNAL, ABORTED or RESOURCE_EXHAUSTED is reopened with jittered backoff; what the old stream delivered stays
/// leased and is acknowledged as usual. Positions are <c>subscription/0/offset</c>, offsets counted per run; each
/// message also carries its Pub/Sub message id as header <c>sluice-message-id</c>, which deduplication uses, so that a
/// redelivery is processed again, not dropped.
/// </summary>
internal sealed class PubSubSource : IMessageSource
{
    /// <summary>Ack ids per Acknowledge or ModifyAckDeadline call (Pub/Sub takes requests up to 512 KB).</summary>
    private const int IdsPerCall = 2_500;

    private readonly ResolverPlan _plan;
    private readonly PubSubSourceOptions _options;
    private readonly SourceContext _context;
    private readonly GrpcChannel _channel;
    private readonly Subscriber.SubscriberClient _client;
    private readonly string _subscription, _name;
    private readonly Channel<MessageBatch> _out = Channel.CreateBounded<MessageBatch>(4);
    private readonly Channel<List<string>> _acks = Channel.CreateUnbounded<List<string>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SortedDictionary<long, string> _inFlight = []; // offset -> ack id
    private readonly Lock _lock = new();
    private readonly ILogger _log = SluiceLog.For("Sluice.PubSub");
    private readonly Task _acker;
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
        _client = new Subscriber.SubscriberClient(_channel);
        _acker = Task.Run(AcknowledgeAsync);
    }

    /// <summary>Messages acknowledged to Pub/Sub so far.</summary>
    public long AcknowledgedCount => Interlocked.Read(ref _acknowledged);

    /// <summary>The subscription's messages as batches, until <paramref name="stop"/> or idle exit.</summary>
    public async IAsyncEnumerable<SourceEvent> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stop)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var pump = Task.Run(() => PumpAsync(reading.Token), CancellationToken.None);
        var keepAlive = Task.Run(() => ExtendAsync(reading.Token), CancellationToken.None);
        await foreach (var batch in _out.Reader.ReadAllAsync(CancellationToken.None)) yield return SourceEvent.Of(batch);
        await reading.CancelAsync();
        try { await Task.WhenAll(pump, keepAlive); }
        catch (OperationCanceledException) { }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled) { }
    }

    /// <summary>Full-jitter exponential backoff: up to 100 ms, 200 ms, ... capped at 10 s.</summary>
    internal static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(10_000, 100 * Math.Pow(2, Math.Min(attempt, 10))));

    private async Task PumpAsync(CancellationToken ct)
    {
        var b = new MessageBatch.Builder();
        try
        {
            var idle = Task.Run(async () =>
            {
                while (_context.IdleExit is { } limit && !ct.IsCancellationRequested)
                {
                    await Task.Delay(100, ct);
                    // What is in flight is acknowledged as the graph drains.
                    // Before the first message a subscription gets some grace: a fresh stream can take a moment to deliver.
                    if (DateTime.UtcNow - _lastMessage > (_next == 0 ? TimeSpan.FromTicks(Math.Max(limit.Ticks, TimeSpan.FromSeconds(5).Ticks)) : limit))
                    {
                        _out.Writer.TryComplete();
                        return;
                    }
                }
            }, CancellationToken.None);
            for (int attempt = 0; !ct.IsCancellationRequested; attempt++)
            {
                string ended;
                try
                {
                    using var call = await OpenAsync(ct);
                    if (_next == 0) _lastMessage = DateTime.UtcNow; // idleness counts from the open stream
                    // Responses (up to a few hundred messages each) are gathered into batches of 4096, or fewer when the
                    // stream pauses for 10 ms: the graph's cost is per batch.
                    var stream = call.ResponseStream;
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
                        attempt = 0;
                        _lastMessage = DateTime.UtcNow;
                        Append(b, response);
                        if (b.Length >= 4096)
                        {
                            await _out.Writer.WriteAsync(b.Build(), ct);
                            b = new MessageBatch.Builder();
                        }
                    }
                    ended = "the server closed the stream";
                }
                catch (RpcException e) when (!ct.IsCancellationRequested && PubSubChannels.Transient(e.StatusCode))
                {
                    ended = $"{e.StatusCode}: {e.Status.Detail}";
                }
                // What the closed stream delivered flows on (and is acknowledged as usual) while the next one opens.
                if (b.Length > 0)
                {
                    await _out.Writer.WriteAsync(b.Build(), ct);
                    b = new MessageBatch.Builder();
                }
                var wait = Backoff(attempt);
                _health.NotReadyBecause($"reopening the stream ({ended})");
                _log.LogWarning("source {Source} ({Resolver}): Pub/Sub subscription {Subscription}: {Reason}; reopening the stream in {Delay} ms",
                    _plan.Source.Name, _plan.Name, _subscription, ended, (int)wait.TotalMilliseconds);
                SluiceMetrics.Reconnected("pubsub");
                await Task.Delay(wait, ct);
            }
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

    /// <summary>Opens a stream; the messages a closed stream left in flight are leased again on it at once.</summary>
    private async Task<AsyncDuplexStreamingCall<StreamingPullRequest, StreamingPullResponse>> OpenAsync(CancellationToken ct)
    {
        var call = _client.StreamingPull(cancellationToken: ct);
        try
        {
            var first = new StreamingPullRequest
            {
                Subscription = _subscription,
                StreamAckDeadlineSeconds = (int)_options.AckDeadline.TotalSeconds,
                MaxOutstandingMessages = _options.MaxOutstandingMessages,
                ClientId = Guid.NewGuid().ToString("N"),
            };
            await call.RequestStream.WriteAsync(first, ct);
            _health.Ready();
            await ExtendInFlightAsync(ct);
            return call;
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    private void Append(MessageBatch.Builder b, StreamingPullResponse response)
    {
        lock (_lock)
        {
            foreach (var r in response.ReceivedMessages)
            {
                long offset = _next++;
                _inFlight[offset] = r.AckId;
                AppendMessage(b, _name, offset, r.Message);
            }
        }
    }

    /// <summary>Extends the deadline of every message in flight every third of the ack deadline.</summary>
    private async Task ExtendAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(_options.AckDeadline / 3, ct);
            await ExtendInFlightAsync(ct);
        }
    }

    private async Task ExtendInFlightAsync(CancellationToken ct)
    {
        string[] ids;
        lock (_lock) ids = [.. _inFlight.Values];
        foreach (var chunk in ids.Chunk(IdsPerCall))
        {
            var request = new ModifyAckDeadlineRequest { Subscription = _subscription, AckDeadlineSeconds = (int)_options.AckDeadline.TotalSeconds };
            request.AckIds.AddRange(chunk);
            try { await _client.ModifyAckDeadlineAsync(request, cancellationToken: ct); }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                // The next round tries again; a message whose lease ran out meanwhile is delivered again (at least once).
                _log.LogWarning("source {Source} ({Resolver}): could not extend the ack deadline of {Count} messages: {Reason}",
                    _plan.Source.Name, _plan.Name, chunk.Length, e.Status.Detail);
            }
        }
    }

    /// <inheritdoc/>
    public SourceTraits Traits => new() { Live = true, DurableWithin = _options.DurableWithin };

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => [];

    /// <inheritdoc/>
    public Exception? Fault => null;

    /// <summary>Called by the graph as the acknowledged prefix advances: queues those messages' ack ids, each once.</summary>
    public void Acknowledged(string topic, int partition, long next)
    {
        if (topic != _name) return;
        var ids = new List<string>();
        lock (_lock)
        {
            while (_inFlight.Count > 0 && _inFlight.First() is var (offset, ackId) && offset < next)
            {
                ids.Add(ackId);
                _inFlight.Remove(offset);
            }
        }
        if (ids.Count > 0) _acks.Writer.TryWrite(ids);
    }

    /// <summary>
    /// Sends the queued acks with unary Acknowledge calls (they answer, unlike acks written on the stream, so none is
    /// lost with a stream that closes), retrying transient failures; each ack id is sent until it is acknowledged once.
    /// </summary>
    private async Task AcknowledgeAsync()
    {
        var pending = new List<string>();
        while (await _acks.Reader.WaitToReadAsync())
        {
            while (pending.Count < IdsPerCall && _acks.Reader.TryRead(out var ids)) pending.AddRange(ids);
            foreach (var chunk in pending.Chunk(IdsPerCall))
            {
                var request = new AcknowledgeRequest { Subscription = _subscription };
                request.AckIds.AddRange(chunk);
                try
                {
                    await PubSubChannels.Retry.ExecuteAsync(async ct => await _client.AcknowledgeAsync(request, cancellationToken: ct), CancellationToken.None);
                    Interlocked.Add(ref _acknowledged, chunk.Length);
                }
                catch (RpcException e)
                {
                    _log.LogWarning("source {Source} ({Resolver}): could not acknowledge {Count} messages ({Reason}); Pub/Sub delivers them again",
                        _plan.Source.Name, _plan.Name, chunk.Length, e.Status.Detail);
                }
            }
            pending.Clear();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // The acks the graph gave while it drained go out before the channel closes.
        _acks.Writer.TryComplete();
        await _acker.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        _outstanding.Dispose();
        _health.Dispose();
        _channel.Dispose();
    }

    /// <summary>
    /// A received message as a batch row (read and recorded alike): subscription id as topic, partition 0, publish time
    /// as timestamp, ordering key as key, attributes and <c>sluice-message-id</c> as headers.
    /// </summary>
    internal static void AppendMessage(MessageBatch.Builder b, string subscriptionId, long offset, PubsubMessage m)
    {
        long ts = m.PublishTime is { } t ? t.Seconds * 1_000_000 + t.Nanos / 1000 : 0;
        var headers = m.Attributes.Select(a => KeyValuePair.Create(a.Key, System.Text.Encoding.UTF8.GetBytes(a.Value))).ToList();
        headers.Add(KeyValuePair.Create(MessageBatch.MessageIdHeader, System.Text.Encoding.UTF8.GetBytes(m.MessageId)));
        b.Append(subscriptionId, 0, offset, ts, m.OrderingKey.Length == 0 ? null : System.Text.Encoding.UTF8.GetBytes(m.OrderingKey), m.Data.ToByteArray(), headers);
    }
}
