using System.Text.Json;
using FluentAssertions;
using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Sluice.Sources.Tests.PubSub;

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
        output.Should().Contain("80 messages recorded");
        File.ReadLines(recording).First().Should().Contain("\"type\"");
        (code, output, err) = Cli.Run(["replay", defs, recording, "--json", "--online", $"sqlite:{Path.Combine(_dir, "replayed.db")}", "--offline", Path.Combine(_dir, "offline2")]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("users_stream").GetProperty("written").GetInt64().Should().Be(80,
            "attributes came through the recording as headers");
    }
}
