using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
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

    private long Rows(string db)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=false");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM \"user\"";
            return (long)cmd.ExecuteScalar()!;
        }
        catch (SqliteException) { return 0; }
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
        Process Sluice(int idleExit)
        {
            // The tool as built in its own project: this test's output folder resolves ASP.NET Core (for the loopback
            // server) from the shared framework, which the tool's own runtime configuration does not load.
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(root!.FullName, "Pipeline.sln"))) root = root.Parent;
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
            var tool = Path.Combine(root.FullName, "src", "Cli", "bin", configuration, "net10.0", "sluice.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir };
            foreach (var a in new[] { tool, "run", defs, "--online", "sqlite:" + db,
                         "--offline", Path.Combine(_dir, "offline"), "--idle-exit", idleExit.ToString(System.Globalization.CultureInfo.InvariantCulture) })
                start.ArgumentList.Add(a);
            start.Environment["PUBSUB_EMULATOR_HOST"] = _server.Host;
            return Process.Start(start)!;
        }

        using (var first = Sluice(idleExit: 120))
        {
            for (var deadline = DateTime.UtcNow.AddSeconds(60); Rows(db) == 0 && DateTime.UtcNow < deadline;) await Task.Delay(50);
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
        Rows(db).Should().Be(n, "every message's features are in the online store after the restart: a message claimed for deduplication "
            + "but not written before the kill comes back with its message id, a redelivery, not a duplicate");
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !(subscription.Outstanding.IsEmpty && subscription.Pending.IsEmpty) && DateTime.UtcNow < deadline;)
            await Task.Delay(50);
        (subscription.Outstanding.Count + subscription.Pending.Count).Should().Be(0, "everything was acknowledged in the end");
    }
}
