using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.PubSub;

/// <summary>'sluice run' on a Pub/Sub subscription and 'sluice record --pubsub-subscription' + 'replay', against the loopback Pub/Sub server.</summary>
[Collection("PUBSUB_EMULATOR_HOST")]
public sealed class PubSubCliIntegrationTests : IAsyncLifetime
{
    private LoopbackPubSub _server = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pubsub-cli-").FullName;

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

    [Fact]
    public void Run_record_and_replay_a_subscription()
    {
        _server.Data.CreateSubscription("projects/p/subscriptions/users-sub", "projects/p/topics/users");
        _server.Data.CreateSubscription("projects/p/subscriptions/recorder", "projects/p/topics/users");
        _server.Data.Publish("projects/p/topics/users", Enumerable.Range(1, 80).Select(i => new PubsubMessage
        {
            Data = ByteString.CopyFromUtf8(JsonSerializer.Serialize(new { id = i, name = $"user {i}" })),
            Attributes = { ["type"] = "User" },
        }));
        var defs = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(defs, """
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              UserMessage: {id: int64, name: string}
            sources:
              users: {kind: pubsub, project_id: p, subscription_id: users-sub}
            resolvers:
              users_stream:
                source: users
                message_type: UserMessage
                message_header_filters: [[type, User]]
                output_features: {User.user_id: _.id, User.full_name: _.name}
            """);
        var (code, output, err) = Cli.Run(["run", defs, "--idle-exit", "1", "--json", "--online", $"sqlite:{Path.Combine(_dir, "online.db")}",
            "--offline", Path.Combine(_dir, "offline"), "--dead-letter", Path.Combine(_dir, "dead.jsonl")]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("users_stream").GetProperty("written").GetInt64().Should().Be(80, output + err);

        var recording = Path.Combine(_dir, "users.jsonl");
        (code, output, err) = Cli.Run(["record", "--pubsub-project", "p", "--pubsub-subscription", "recorder", "--idle-exit", "1", "--out", recording]);
        code.Should().Be(0, err);
        output.Should().Contain("recorded 80 messages");
        File.ReadLines(recording).First().Should().Contain("\"type\"");
        (code, output, err) = Cli.Run(["replay", defs, recording, "--json", "--online", $"sqlite:{Path.Combine(_dir, "replayed.db")}", "--offline", Path.Combine(_dir, "offline2")]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("users_stream").GetProperty("written").GetInt64().Should().Be(80,
            "attributes came through the recording as headers");
    }

    [Fact]
    public async Task A_run_killed_mid_stream_loses_nothing_its_unacknowledged_messages_are_redelivered()
    {
        const int n = 60_000;
        _server.Data.CreateSubscription("projects/p/subscriptions/users-sub", "projects/p/topics/users");
        _server.Data.Publish("projects/p/topics/users", Enumerable.Range(1, n).Select(i => new PubsubMessage
        {
            Data = ByteString.CopyFromUtf8(JsonSerializer.Serialize(new { id = i, name = $"user {i}" })),
            Attributes = { ["type"] = "User" },
        }));
        var defs = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(defs, """
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              UserMessage: {id: int64, name: string}
            sources:
              users: {kind: pubsub, project_id: p, subscription_id: users-sub}
            resolvers:
              users_stream:
                source: users
                message_type: UserMessage
                output_features: {User.user_id: _.id, User.full_name: _.name}
                deduplication: {on: _.id, within: 1h}
            """);
        var db = Path.Combine(_dir, "online.db");
        Process Sluice(int idleExit) => SluiceProcess.Start(_dir,
            ["run", defs, "--online", "sqlite:" + db, "--offline", Path.Combine(_dir, "offline"), "--idle-exit", idleExit.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string> { ["PUBSUB_EMULATOR_HOST"] = _server.Host });
        long Rows() => SluiceProcess.Rows(db, "user");

        using (var first = Sluice(idleExit: 120))
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(60); Rows() == 0 && DateTime.UtcNow < deadline;) await Task.Delay(50);
            if (first.HasExited) throw new InvalidOperationException("the first run ended before it was killed: " + await first.StandardError.ReadToEndAsync() + await first.StandardOutput.ReadToEndAsync());
            first.Kill(); // SIGKILL: no drain, no acknowledgement of what was in flight
            await first.WaitForExitAsync();
        }
        var subscription = _server.Data.Subscriptions["projects/p/subscriptions/users-sub"];
        (subscription.Outstanding.Count + subscription.Pending.Count).Should().BeGreaterThan(0, "the kill came before everything was acknowledged");

        using (var second = Sluice(idleExit: 3))
        {
            var exited = second.WaitForExitAsync();
            (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMinutes(3)))).Should().Be(exited, "--idle-exit ends the run");
            second.ExitCode.Should().Be(0, await second.StandardError.ReadToEndAsync());
        }
        Rows().Should().Be(n, "every message's features are in the online store after the restart: a message claimed for deduplication "
            + "but not written before the kill comes back with its message id, a redelivery, not a duplicate");
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !(subscription.Outstanding.IsEmpty && subscription.Pending.IsEmpty) && DateTime.UtcNow < deadline;)
            await Task.Delay(50);
        (subscription.Outstanding.Count + subscription.Pending.Count).Should().Be(0, "everything was acknowledged in the end");
    }
}
