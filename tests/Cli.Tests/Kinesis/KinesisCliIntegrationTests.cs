using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Data.Sqlite;
using Sluice.Clients;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Kinesis;

/// <summary>'sluice run' on a Kinesis source, 'sluice record --kinesis-stream' and 'sluice replay' of that recording, against kinesalite.</summary>
public sealed class KinesisCliIntegrationTests : IAsyncLifetime
{
    private Kinesalite _server = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-kinesis-cli-").FullName;

    public async Task InitializeAsync() => _server = await Kinesalite.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A definition file under the test folder: the users resolver reading <paramref name="stream"/>, plus <paramref name="resolverLine"/> if given.</summary>
    private string UsersDefinitions(string file, string stream, string? resolverLine = null)
    {
        var path = Path.Combine(_dir, file);
        File.WriteAllText(path, $$"""
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              UserMessage: {id: int64, name: string}
            sources:
              users: {kind: kinesis, stream_name: {{stream}}, region_name: us-east-1, endpoint_url: "{{_server.Endpoint}}"}
            resolvers:
              users_stream:
                source: users
                message_type: UserMessage
                output_features: {User.user_id: _.id, User.full_name: _.name}
            {{(resolverLine is null ? "" : "    " + resolverLine)}}
            """);
        return path;
    }

    [Fact]
    public async Task Run_record_and_replay_a_Kinesis_stream()
    {
        using (var client = new KinesisClient(new Uri(_server.Endpoint), "us-east-1", "k", "s"))
        {
            await client.CreateStreamAsync("users", 3, CancellationToken.None);
            await client.PutRecordsAsync("users", Enumerable.Range(1, 120).Select(i =>
                (Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { id = i, name = $"user {i}" })), $"k{i}")).ToList(), CancellationToken.None);
        }
        var defs = UsersDefinitions("sluice.yaml", stream: "users");
        string[] stores = ["--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "--offline", Path.Combine(_dir, "offline"), "--dead-letter", Path.Combine(_dir, "dead.jsonl")];
        var (code, output, err) = await Task.Run(() => Cli.Run(["run", defs, "--idle-exit", "1", "--json", .. stores])).WaitAsync(TimeSpan.FromMinutes(2));
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("users_stream").GetProperty("written").GetInt64().Should().Be(120);
        File.Exists(Path.Combine(_dir, "kinesis-checkpoints.db")).Should().BeTrue("checkpoints live beside the dead-letter file");
        (code, output, _) = Cli.Run(["get", defs, "--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "User", "77"]);
        code.Should().Be(0);
        output.Should().Contain("user 77");

        var recording = Path.Combine(_dir, "users.arrows");
        (code, output, err) = Cli.Run(["record", "--kinesis-stream", "users", "--endpoint-url", _server.Endpoint, "--from-beginning", "--out", recording]);
        code.Should().Be(0, err);
        output.Should().Contain("recorded 120 messages");
        (code, output, err) = Cli.Run(["replay", defs, recording, "--json", "--online", $"sqlite:{Path.Combine(_dir, "replayed.db")}", "--offline", Path.Combine(_dir, "offline2")]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("users_stream").GetProperty("written").GetInt64().Should().Be(120);

        (code, _, err) = Cli.Run(["record", "--out", recording]);
        code.Should().Be(2);
        err.Should().Contain("--kinesis-stream");
    }

    [Fact]
    public async Task A_run_killed_mid_stream_and_restarted_loses_nothing_with_deduplication_on()
    {
        const int first = 20_000, n = 60_000;
        using var client = new KinesisClient(new Uri(_server.Endpoint), "us-east-1", "k", "s");
        await client.CreateStreamAsync("killed", 2, CancellationToken.None);
        Task Put(int from, int to) => client.PutRecordsAsync("killed",
            Enumerable.Range(from, to - from + 1).Select(i => (Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { id = i, name = $"user {i}" })), $"k{i}")).ToList(), CancellationToken.None);
        await Put(1, first);
        var defs = UsersDefinitions("killed.yaml", stream: "killed", "deduplication: {on: _.id, within: 1h}");
        var db = Path.Combine(_dir, "killed.db");
        Process Sluice(int idleExit) => SluiceProcess.Start(_dir, ["run", defs, "--online", "sqlite:" + db, "--offline", Path.Combine(_dir, "killed-offline"),
            "--dead-letter", Path.Combine(_dir, "killed", "dead.jsonl"), "--idle-exit", idleExit.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        long Rows() => SluiceProcess.Rows(db, "user");
        var checkpoints = Path.Combine(_dir, "killed", "kinesis-checkpoints.db");
        using (var run = Sluice(idleExit: 120))
        {
            // The first wave is written and checkpointed (offline files close every 10 s in a live run) ...
            for (var deadline = DateTime.UtcNow.AddSeconds(90); !Checkpointed() && DateTime.UtcNow < deadline;) await Task.Delay(100);
            if (run.HasExited) throw new InvalidOperationException("the first run ended before it was killed: " + await run.StandardError.ReadToEndAsync());
            Checkpointed().Should().BeTrue("a checkpoint exists before the kill");
            // ... then the second wave is killed mid-stream: claimed for deduplication, partly written, not checkpointed.
            await Put(first + 1, n);
            for (var deadline = DateTime.UtcNow.AddSeconds(60); Rows() <= first && DateTime.UtcNow < deadline;) await Task.Delay(10);
            run.Kill(); // SIGKILL: no drain, no checkpoint of what was in flight
            await run.WaitForExitAsync();
        }
        bool Checkpointed()
        {
            if (!File.Exists(checkpoints)) return false;
            try
            {
                using var c = new SqliteConnection($"Data Source={checkpoints};Mode=ReadOnly;Pooling=false");
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "SELECT count(*) FROM checkpoint WHERE offset >= 0";
                return (long)cmd.ExecuteScalar()! > 0;
            }
            catch (SqliteException) { return false; }
        }
        Rows().Should().BeLessThan(n, "the kill came mid-stream");
        using (var second = Sluice(idleExit: 2))
        {
            var exited = second.WaitForExitAsync();
            (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMinutes(3)))).Should().Be(exited, "--idle-exit ends the run");
            var said = await second.StandardOutput.ReadToEndAsync() + await second.StandardError.ReadToEndAsync();
            second.ExitCode.Should().Be(0, said);
        }
        Rows().Should().Be(n, "every record's features are in the online store after the kill and the restart from the checkpoint");
    }
}
