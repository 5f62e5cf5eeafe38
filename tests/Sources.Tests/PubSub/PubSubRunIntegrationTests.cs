using System.Text.Json;
using FluentAssertions;
using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.PubSub;

/// <summary>
/// Pub/Sub resolvers against a loopback Pub/Sub server (gRPC, plain text, PUBSUB_EMULATOR_HOST): attributes as headers
/// for routing, acknowledgement only after every target, a sink topic, a dead-letter topic, and redelivery after a stop.
/// </summary>
[Collection("PUBSUB_EMULATOR_HOST")] // the environment variable is process-wide
public sealed class PubSubRunIntegrationTests : IAsyncLifetime
{
    private LoopbackPubSub _server = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pubsub-").FullName;

    public async Task InitializeAsync()
    {
        _server = await LoopbackPubSub.StartAsync();
        Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", _server.Host);
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", null);
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private const string Yaml = """
        features:
          User: {user_id: {type: int64, primary: true}, full_name: string}
        messages:
          UserMessage: {id: int64, name: string}
        sources:
          users: {kind: pubsub, project_id: p, subscription_id: users-sub, dead_letter_queue_topic: users-dlq}
          users_out: {kind: pubsub, project_id: p, topic_id: users-out}
        resolvers:
          users_from_pubsub:
            source: users
            message_type: UserMessage
            message_header_filters: [[type, User]]
            output_features: {User.user_id: _.id, User.full_name: _.name}
            deduplication: {on: _.id, within: 1h}
            sink: {send_to: users_out, output_features: [User.user_id, User.full_name], format: json}
        """;

    private static CompiledDefinitions Definitions() =>
        DefinitionCompiler.CompileText(Yaml, "pubsub.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));

    /// <summary>Runs the resolver with the Pub/Sub source tuned by <paramref name="source"/>, until idle <paramref name="idleSeconds"/> or <paramref name="stop"/>.</summary>
    private Task<IReadOnlyDictionary<string, OutcomeCounts>> Run(double? idleSeconds, PubSubSourceOptions? source = null,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken stop = default) =>
        TestRuns.RunAsync(Definitions(), TestRuns.In(_dir) with { IdleExit = idleSeconds is { } s ? TimeSpan.FromSeconds(s) : null, Progress = progress },
            TestDefinitions.Connectors.With(new PubSubSourceKind(source)), stop);

    private void Setup()
    {
        _server.Data.CreateSubscription("projects/p/subscriptions/users-sub", "projects/p/topics/users");
        _server.Data.CreateTopic("projects/p/topics/users-out");
        _server.Data.CreateTopic("projects/p/topics/users-dlq");
    }

    private void Publish(IEnumerable<(string Data, string Type)> messages) =>
        _server.Data.Publish("projects/p/topics/users", messages.Select(m => new PubsubMessage { Data = ByteString.CopyFromUtf8(m.Data), Attributes = { ["type"] = m.Type } }));

    private async Task<string?> Online(long id)
    {
        await using var store = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        return await store.GetAsync(Definitions().Classes.Single(), id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Attributes_route_acks_follow_the_targets_and_sink_and_dead_letter_topics_receive_through_refused_publishes()
    {
        Setup();
        Publish(Enumerable.Range(1, 150).Select(i => (JsonSerializer.Serialize(new { id = i, name = $"user {i}" }), "User")));
        Publish(Enumerable.Range(1, 20).Select(i => ($"{{\"tx\": {i}}}", "Transaction")));
        Publish([("{broken", "User")]);
        _server.Data.FailPublishes = 2; // the sink's first publishes are refused: retried, each record published once

        var counts = await Run(1).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_pubsub"].Written.Should().Be(150);
        counts["users_from_pubsub"].Filtered.Should().Be(20);
        counts["users_from_pubsub"].ParseFailed.Should().Be(1);
        (await Online(42)).Should().Contain("user 42");

        var subscription = _server.Data.Subscriptions["projects/p/subscriptions/users-sub"];
        await WaitUntil(() => subscription.Outstanding.IsEmpty && subscription.Pending.IsEmpty);
        _server.Data.FailPublishes.Should().BeNegative("both refusals happened, and the publishes after them went through");
        _server.Data.Published["projects/p/topics/users-out"].Should().HaveCount(150)
            .And.Contain(m => m.Data.ToStringUtf8() == """{"user.user_id":7,"user.full_name":"user 7"}""" && m.Attributes["sluice-key"] == "7");
        var dead = _server.Data.Published["projects/p/topics/users-dlq"].Should().ContainSingle().Subject;
        dead.Data.ToStringUtf8().Should().Be("{broken");
        dead.Attributes["type"].Should().Be("User");
        dead.Attributes["sluice-resolver"].Should().Be("users_from_pubsub");
        dead.Attributes["sluice-error"].Should().Contain("parse failed");
    }

    [Fact]
    public async Task Messages_in_flight_at_a_stop_are_redelivered_and_nothing_is_lost()
    {
        Setup();
        Publish(Enumerable.Range(1, 3000).Select(i => (JsonSerializer.Serialize(new { id = i, name = $"user {i}" }), "User")));
        using (var stop = new CancellationTokenSource())
        {
            var reading = new TaskCompletionSource();
            var first = Run(null, new PubSubSourceOptions { MaxOutstandingMessages = 200 }, (messages, _) => { if (messages > 0) reading.TrySetResult(); }, stop.Token);
            await reading.Task.WaitAsync(TimeSpan.FromMinutes(1)); // stopped mid-stream: flow control holds the rest back
            await stop.CancelAsync();
            await first.WaitAsync(TimeSpan.FromMinutes(2));
        }
        var counts = await Run(3).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_pubsub"].ParseFailed.Should().Be(0);
        counts["users_from_pubsub"].Duplicate.Should().Be(0, "a redelivered message keeps its message id: a redelivery, not a duplicate");
        for (long id = 1; id <= 3000; id += 71) (await Online(id)).Should().NotBeNull($"user {id} was written");
        (await Online(3000)).Should().NotBeNull();
    }

    [Fact]
    public async Task Streams_the_server_closes_or_fails_are_reopened_without_losing_or_acknowledging_twice()
    {
        Setup();
        const int Total = 6000;
        Publish(Enumerable.Range(1, Total).Select(i => (JsonSerializer.Serialize(new { id = i, name = $"user {i}" }), "User")));
        var subscription = _server.Data.Subscriptions["projects/p/subscriptions/users-sub"];
        long reopened = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Name == "sluice.reconnects") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag.Key == "component" && (string?)tag.Value == "pubsub") Interlocked.Add(ref reopened, value);
        });
        listener.Start();
        int closed = 0;
        using var running = new CancellationTokenSource();
        var closer = Task.Run(async () =>
        {
            // Mid-run the server ends the stream cleanly once, then fails it with UNAVAILABLE, then with DEADLINE_EXCEEDED.
            foreach (var (after, status) in new (int, Grpc.Core.StatusCode?)[] { (1000, null), (2500, Grpc.Core.StatusCode.Unavailable), (4000, Grpc.Core.StatusCode.DeadlineExceeded) })
            {
                while (Volatile.Read(ref subscription.Deliveries) < after) await Task.Delay(5, running.Token);
                _server.Data.CloseStreams(status);
                closed++;
            }
        });
        // Acks wait for offline files, which close every 200 ms here: flow control lets the next 1000 out soon after.
        var counts = await Run(5, new PubSubSourceOptions { MaxOutstandingMessages = 1000, DurableWithin = TimeSpan.FromMilliseconds(200) }).WaitAsync(TimeSpan.FromMinutes(2));
        await running.CancelAsync();
        await closer.ContinueWith(_ => { }, TaskScheduler.Default);

        closed.Should().Be(3, $"written {counts["users_from_pubsub"].Written}, deliveries {subscription.Deliveries}, closer {closer.Status}, acked {_server.Data.AckCounts.Count}, outstanding {subscription.Outstanding.Count}, pending {subscription.Pending.Count}, streams {_server.Data.StreamsOpened}");
        _server.Data.StreamsOpened.Should().BeGreaterThanOrEqualTo(4, "each closed stream was reopened");
        Interlocked.Read(ref reopened).Should().BeGreaterThanOrEqualTo(3, "every reopen counts in sluice.reconnects{component=pubsub}");
        (subscription.Pending.Count, subscription.Outstanding.Count).Should().Be((0, 0), "every message was delivered and acknowledged: nothing lost");
        _server.Data.AckCounts.Should().HaveCountGreaterThanOrEqualTo(Total).And.OnlyContain(a => a.Value == 1, "no ack id is acknowledged twice");
        counts["users_from_pubsub"].Written.Should().BeGreaterThanOrEqualTo(Total);
        counts["users_from_pubsub"].Duplicate.Should().Be(0);
        for (long id = 1; id <= Total; id += 97) (await Online(id)).Should().NotBeNull($"user {id} was written");
        (await Online(Total)).Should().NotBeNull();
    }

    [Fact]
    public async Task Messages_published_by_the_official_Node_client_are_read_with_their_attributes()
    {
        Setup();
        var tool = NodeServer.ToolDirectory("pubsub");
        if (!Directory.Exists(Path.Combine(tool, "node_modules", "@google-cloud", "pubsub")))
            throw new InvalidOperationException($"@google-cloud/pubsub is not installed: run 'npm ci' in {tool} (.ci/run does)");
        (await NodeServer.RunScriptAsync(tool, "publish.js", ["p", "users", "500"], new Dictionary<string, string> { ["PUBSUB_EMULATOR_HOST"] = _server.Host }))
            .Should().Contain("published 500");

        var counts = await Run(1).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_pubsub"].Written.Should().Be(450);
        counts["users_from_pubsub"].Filtered.Should().Be(50, "every 10th message has attribute type=Other");
        (await Online(123)).Should().Contain("node 123");
        (await Online(120)).Should().BeNull();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !condition() && DateTime.UtcNow < deadline;) await Task.Delay(50);
        condition().Should().BeTrue();
    }
}
