using System.Collections.Concurrent;
using Google.Cloud.PubSub.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sluice.TestSupport;

/// <summary>
/// A loopback Pub/Sub server (gRPC over plain-text HTTP/2 on a free port) implementing what publishers and streaming
/// subscribers use: topics, subscriptions, Publish, StreamingPull (flow control, acks, deadline changes), Acknowledge
/// and Pull. A message not acknowledged before its deadline, or in flight on a stream that closes, is delivered again.
/// Tests can close the open streams (<see cref="State.CloseStreams"/>) and see every call's token and every ack.
/// </summary>
internal sealed class LoopbackPubSub : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackPubSub(WebApplication app, State state, string host)
    {
        _app = app;
        Data = state;
        Host = host;
    }

    /// <summary>host:port, as PUBSUB_EMULATOR_HOST takes it.</summary>
    public string Host { get; }

    public State Data { get; }

    public static async Task<LoopbackPubSub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        var state = new State();
        builder.Services.AddSingleton(state);
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<PublisherService>();
        app.MapGrpcService<SubscriberService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LoopbackPubSub(app, state, new Uri(address).Authority);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    internal sealed class Subscription(string topic)
    {
        public string Topic { get; } = topic;
        public readonly ConcurrentQueue<PubsubMessage> Pending = new();
        public readonly ConcurrentDictionary<string, (PubsubMessage Message, DateTime Deadline)> Outstanding = new();
        public int Deliveries;

        public void Requeue(string ackId)
        {
            if (Outstanding.TryRemove(ackId, out var o)) Pending.Enqueue(o.Message);
        }

        private long _lastExpiry;

        /// <summary>Requeues what passed its deadline; looks at most every 200 ms (the scan is over everything outstanding).</summary>
        public void Expire()
        {
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _lastExpiry) < 200) return;
            Interlocked.Exchange(ref _lastExpiry, now);
            foreach (var (id, o) in Outstanding)
                if (o.Deadline < DateTime.UtcNow) Requeue(id);
        }
    }

    internal sealed class State
    {
        public readonly ConcurrentDictionary<string, List<string>> Topics = new();
        public readonly ConcurrentDictionary<string, Subscription> Subscriptions = new();
        public readonly ConcurrentDictionary<string, List<PubsubMessage>> Published = new();
        private long _ids;
        private readonly ConcurrentDictionary<CancellationTokenSource, bool> _streams = new();
        private StatusCode? _closeWith;

        /// <summary>Publish calls still to refuse with UNAVAILABLE (before storing anything), as a server in trouble does.</summary>
        public int FailPublishes;

        /// <summary>StreamingPull calls opened so far.</summary>
        public int StreamsOpened;
        /// <summary>How often each ack id was acknowledged (on a stream or by the unary call): 1 each, or something was acknowledged twice.</summary>
        public readonly ConcurrentDictionary<string, int> AckCounts = new();
        /// <summary>The Authorization header of every call that read or acknowledged, in arrival order.</summary>
        public readonly ConcurrentQueue<string> Authorizations = new();

        /// <summary>Ends every open StreamingPull call: normally (the server closed the stream) or with <paramref name="status"/>.</summary>
        public void CloseStreams(StatusCode? status = null)
        {
            _closeWith = status;
            foreach (var stream in _streams.Keys) stream.Cancel();
        }

        internal void Opened(CancellationTokenSource stream)
        {
            Interlocked.Increment(ref StreamsOpened);
            _streams[stream] = true;
        }

        internal StatusCode? Closed(CancellationTokenSource stream)
        {
            _streams.TryRemove(stream, out _);
            return stream.IsCancellationRequested ? _closeWith : null;
        }

        /// <summary>Ack id -> the flow-control count of the stream that delivered it (an ack on any call releases it).</summary>
        internal readonly ConcurrentDictionary<string, System.Runtime.CompilerServices.StrongBox<int>> Leases = new();

        internal void Acknowledge(Subscription s, string ackId)
        {
            s.Outstanding.TryRemove(ackId, out _);
            if (Leases.TryRemove(ackId, out var stream)) Interlocked.Decrement(ref stream.Value);
            AckCounts.AddOrUpdate(ackId, 1, (_, n) => n + 1);
        }

        public void CreateTopic(string name) => Topics.TryAdd(name, []);

        public void CreateSubscription(string name, string topic)
        {
            CreateTopic(topic);
            Subscriptions[name] = new Subscription(topic);
            lock (Topics[topic]) Topics[topic].Add(name);
        }

        public List<string> Publish(string topic, IEnumerable<PubsubMessage> messages)
        {
            if (!Topics.TryGetValue(topic, out var subscriptions)) throw new RpcException(new Status(StatusCode.NotFound, $"Topic not found: {topic}"));
            var ids = new List<string>();
            foreach (var m in messages)
            {
                var stamped = m.Clone();
                stamped.MessageId = Interlocked.Increment(ref _ids).ToString(System.Globalization.CultureInfo.InvariantCulture);
                stamped.PublishTime = Timestamp.FromDateTime(DateTime.UtcNow);
                ids.Add(stamped.MessageId);
                Published.GetOrAdd(topic, _ => []).Add(stamped);
                lock (subscriptions)
                    foreach (var s in subscriptions) Subscriptions[s].Pending.Enqueue(stamped);
            }
            return ids;
        }
    }

    private sealed class PublisherService(State state) : Publisher.PublisherBase
    {
        public override Task<Topic> CreateTopic(Topic request, ServerCallContext context)
        {
            state.CreateTopic(request.Name);
            return Task.FromResult(request);
        }

        public override Task<Topic> GetTopic(GetTopicRequest request, ServerCallContext context) =>
            state.Topics.ContainsKey(request.Topic) ? Task.FromResult(new Topic { Name = request.Topic })
                : throw new RpcException(new Status(StatusCode.NotFound, "Topic not found"));

        public override Task<PublishResponse> Publish(PublishRequest request, ServerCallContext context)
        {
            if (Interlocked.Decrement(ref state.FailPublishes) >= 0) throw new RpcException(new Status(StatusCode.Unavailable, "refused by the test"));
            var response = new PublishResponse();
            response.MessageIds.AddRange(state.Publish(request.Topic, request.Messages));
            return Task.FromResult(response);
        }
    }

    private sealed class SubscriberService(State state) : Subscriber.SubscriberBase
    {
        public override Task<Google.Cloud.PubSub.V1.Subscription> CreateSubscription(Google.Cloud.PubSub.V1.Subscription request, ServerCallContext context)
        {
            state.CreateSubscription(request.Name, request.Topic);
            return Task.FromResult(request);
        }

        public override Task<Google.Cloud.PubSub.V1.Subscription> GetSubscription(GetSubscriptionRequest request, ServerCallContext context) =>
            state.Subscriptions.TryGetValue(request.Subscription, out var s)
                ? Task.FromResult(new Google.Cloud.PubSub.V1.Subscription { Name = request.Subscription, Topic = s.Topic })
                : throw new RpcException(new Status(StatusCode.NotFound, "Subscription not found"));

        public override Task<Empty> Acknowledge(AcknowledgeRequest request, ServerCallContext context)
        {
            state.Authorizations.Enqueue(context.RequestHeaders.GetValue("authorization") ?? "");
            var s = state.Subscriptions[request.Subscription];
            foreach (var id in request.AckIds) state.Acknowledge(s, id);
            return Task.FromResult(new Empty());
        }

        public override Task<Empty> ModifyAckDeadline(ModifyAckDeadlineRequest request, ServerCallContext context)
        {
            var s = state.Subscriptions[request.Subscription];
            foreach (var id in request.AckIds) Modify(s, id, request.AckDeadlineSeconds);
            return Task.FromResult(new Empty());
        }

        private static void Modify(Subscription s, string ackId, int seconds)
        {
            if (seconds == 0) s.Requeue(ackId); // a nack
            else if (s.Outstanding.TryGetValue(ackId, out var o)) s.Outstanding[ackId] = (o.Message, DateTime.UtcNow.AddSeconds(seconds));
        }

        public override Task<PullResponse> Pull(PullRequest request, ServerCallContext context)
        {
            var s = state.Subscriptions[request.Subscription];
            s.Expire();
            var response = new PullResponse();
            while (response.ReceivedMessages.Count < Math.Max(1, request.MaxMessages) && s.Pending.TryDequeue(out var m))
                response.ReceivedMessages.Add(Deliver(s, m, 10));
            return Task.FromResult(response);
        }

        private static ReceivedMessage Deliver(Subscription s, PubsubMessage m, int deadlineSeconds)
        {
            var ackId = $"{m.MessageId}-{Interlocked.Increment(ref s.Deliveries)}";
            s.Outstanding[ackId] = (m, DateTime.UtcNow.AddSeconds(deadlineSeconds));
            return new ReceivedMessage { AckId = ackId, Message = m };
        }

        public override async Task StreamingPull(IAsyncStreamReader<StreamingPullRequest> requestStream, IServerStreamWriter<StreamingPullResponse> responseStream, ServerCallContext context)
        {
            state.Authorizations.Enqueue(context.RequestHeaders.GetValue("authorization") ?? "");
            if (!await requestStream.MoveNext()) return;
            var first = requestStream.Current;
            var s = state.Subscriptions.TryGetValue(first.Subscription, out var found) ? found
                : throw new RpcException(new Status(StatusCode.NotFound, $"Subscription not found: {first.Subscription}"));
            int deadline = Math.Max(10, first.StreamAckDeadlineSeconds);
            long max = first.MaxOutstandingMessages > 0 ? first.MaxOutstandingMessages : 1000;
            var mine = new ConcurrentDictionary<string, bool>();
            var flowing = new System.Runtime.CompilerServices.StrongBox<int>(); // delivered on this stream and not acknowledged: what flow control counts
            void Apply(StreamingPullRequest r)
            {
                foreach (var id in r.AckIds)
                {
                    state.Acknowledge(s, id);
                }
                for (int i = 0; i < r.ModifyDeadlineAckIds.Count; i++) Modify(s, r.ModifyDeadlineAckIds[i], r.ModifyDeadlineSeconds[i]);
            }
            Apply(first);
            using var closing = new CancellationTokenSource();
            // The reader must have stopped before the handler returns: Kestrel reuses the request's stream objects.
            var reader = Task.Run(async () =>
            {
                try { while (await requestStream.MoveNext(closing.Token)) Apply(requestStream.Current); }
                catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException) { }
            });
            state.Opened(closing);
            try
            {
                while (!context.CancellationToken.IsCancellationRequested && !reader.IsCompleted && !closing.IsCancellationRequested)
                {
                    s.Expire();
                    var response = new StreamingPullResponse();
                    while (Volatile.Read(ref flowing.Value) < max && response.ReceivedMessages.Count < 500 && s.Pending.TryDequeue(out var m))
                    {
                        var received = Deliver(s, m, deadline);
                        mine[received.AckId] = true;
                        state.Leases[received.AckId] = flowing;
                        Interlocked.Increment(ref flowing.Value);
                        response.ReceivedMessages.Add(received);
                    }
                    if (response.ReceivedMessages.Count > 0) await responseStream.WriteAsync(response);
                    else await Task.Delay(20, context.CancellationToken);
                }
            }
            catch (OperationCanceledException) { }
            finally
            {
                // What this stream had in flight may still be acknowledged by the unary call for a moment; then it goes
                // out again (Pub/Sub redelivers after the ack deadline; sooner here).
                foreach (var id in mine.Keys)
                    if (s.Outstanding.TryGetValue(id, out var o)) s.Outstanding[id] = (o.Message, DateTime.UtcNow.AddSeconds(2));
            }
            var closedWith = state.Closed(closing);
            await closing.CancelAsync();
            await reader;
            if (closedWith is { } status) throw new RpcException(new Status(status, "closed by the test"));
        }
    }
}
