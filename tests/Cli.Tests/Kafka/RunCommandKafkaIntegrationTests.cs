using System.Diagnostics;
using FluentAssertions;
using Parquet;
using Sluice.Sources;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Kafka;

/// <summary>
/// <c>sluice run</c> and <c>sluice record</c> against librdkafka's mock cluster, the consumer a separate <c>sluice</c>
/// process: killed with SIGKILL in the middle of a stream and restarted, it loses nothing.
/// </summary>
public sealed class RunCommandKafkaIntegrationTests : IDisposable
{
    private readonly KafkaTestKit _kafka = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-run-").FullName;

    public void Dispose()
    {
        _kafka.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Defs()
    {
        var path = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(path, KafkaTestKit.Definitions(_kafka.Bootstrap));
        return path;
    }

    private Process Sluice(params string[] args) => SluiceProcess.Start(_dir, args);

    private long Rows(string table) => SluiceProcess.Rows(Path.Combine(_dir, "online.db"), table);

    [Fact]
    public async Task A_consumer_killed_mid_stream_and_restarted_loses_nothing()
    {
        // 16 partitions of ~2 MB: the mock broker keeps only ~5 MB per partition and drops older messages.
        const int partitions = 16, n = 200_000;
        _kafka.Cluster.CreateTopic("users", partitions);
        foreach (var t in new[] { "users-dlq", "users-ipc" }) _kafka.Cluster.CreateTopic(t, 1);
        _kafka.Cluster.CreateTopic("users-json", partitions);
        void Produce(int from, int count) => _kafka.Produce("users", Enumerable.Range(from, count)
            .Select(i => (i % partitions, (string?)$"{i}", KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));
        string[] Run(int idleExit) => ["run", Defs(), "--resolver", "get_users_stream", "--online", "sqlite:" + Path.Combine(_dir, "online.db"),
            "--offline", Path.Combine(_dir, "offline"), "--idle-exit", idleExit.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        Produce(0, n / 2);

        long rowsAfterKill;
        using (var first = Sluice(Run(idleExit: 120)))
        {
            // Killed once its sink has produced its first batches: mid-stream, with rows in flight to every target.
            _kafka.WaitFor("users-json", 8192, TimeSpan.FromSeconds(60));
            first.HasExited.Should().BeFalse("it must be killed mid-stream, not finish");
            first.Kill(); // SIGKILL: no drain, no commit
            await first.WaitForExitAsync();
            rowsAfterKill = Rows("user");
        }
        Produce(n / 2, n / 2); // the stream goes on while the consumer is down

        var afterKill = _kafka.Committed("sluice/get_users_stream", "users", partitions);
        afterKill.Where(o => o >= 0).Sum().Should().BeLessThan(n, "the kill came before the end was committed");
        string restarted;
        using (var second = Sluice(Run(idleExit: 3)))
        {
            var exited = second.WaitForExitAsync();
            (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMinutes(3)))).Should().Be(exited, "--idle-exit ends the run");
            restarted = await second.StandardOutput.ReadToEndAsync() + await second.StandardError.ReadToEndAsync();
            second.ExitCode.Should().Be(0, restarted);
            restarted.Should().Contain("get_users_stream");
        }

        Rows("user").Should().Be(n, $"every message's features are in the online store; committed after the kill: {string.Join(",", afterKill)}; rows after kill {rowsAfterKill}; the restarted run said:\n{restarted}");
        _kafka.Committed("sluice/get_users_stream", "users", partitions).Should().Equal(Enumerable.Repeat((long)n / partitions, partitions));
        var ids = (await SluiceProcess.OfflineValues(Path.Combine(_dir, "offline", "user"), "user.user_id")).ToHashSet();
        ids.Should().HaveCount(n, "every message has an offline row (a replayed tail may add a second one)");
    }

    [Fact]
    public async Task A_restart_after_a_crash_waits_for_its_partitions_without_counting_the_wait_as_idle()
    {
        // A 40 s session: the crashed member holds its partitions that long. The restart used to count the wait for them
        // as idle and exit 0 having read nothing (--idle-exit 3 plus 30 s of grace ran out first).
        const int n = 40_000;
        _kafka.Cluster.CreateTopic("users", 4);
        foreach (var t in new[] { "users-dlq", "users-json", "users-ipc" }) _kafka.Cluster.CreateTopic(t, 1);
        var defs = Path.Combine(_dir, "slow-session.yaml");
        File.WriteAllText(defs, KafkaTestKit.Definitions(_kafka.Bootstrap)
            .Replace("additional_kafka_args: {session.timeout.ms: \"1000\", heartbeat.interval.ms: \"333\"}", "session_timeout_ms: 40000", StringComparison.Ordinal));
        _kafka.Produce("users", Enumerable.Range(0, n).Select(i => (i % 4, (string?)null, KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));
        string[] Run(params string[] more) => ["run", defs, "--resolver", "get_users_stream", "--online", "sqlite:" + Path.Combine(_dir, "online.db"),
            "--offline", Path.Combine(_dir, "offline"), .. more];
        using (var first = Sluice(Run()))
        {
            _kafka.WaitFor("users-json", 4096, TimeSpan.FromSeconds(60));
            first.Kill(); // SIGKILL: it never leaves the group
            await first.WaitForExitAsync();
        }
        using var second = Sluice(Run("--idle-exit", "3", "--json"));
        var exited = second.WaitForExitAsync();
        (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(120)))).Should().Be(exited);
        var output = await second.StandardOutput.ReadToEndAsync();
        second.ExitCode.Should().Be(0, await second.StandardError.ReadToEndAsync());
        Rows("user").Should().Be(n, "the restart read everything the crashed run had not committed: " + output);
        _kafka.Committed("sluice/get_users_stream", "users", 4).Sum().Should().Be(n);
    }

    [Fact]
    public async Task Ctrl_C_stops_the_run_after_committing_everything_it_read()
    {
        const int partitions = 4, n = 20_000;
        _kafka.Cluster.CreateTopic("users", partitions);
        foreach (var t in new[] { "users-dlq", "users-json", "users-ipc" }) _kafka.Cluster.CreateTopic(t, 1);
        _kafka.Produce("users", Enumerable.Range(0, n).Select(i => (i % partitions, (string?)null, KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));
        using var run = Sluice("run", Defs(), "--resolver", "get_users_stream", "--online", "sqlite:" + Path.Combine(_dir, "online.db"),
            "--offline", Path.Combine(_dir, "offline"));
        _kafka.WaitFor("users-json", n, TimeSpan.FromSeconds(60)); // everything read and resolved; offline files still open
        using (var interrupt = Process.Start("kill", ["-INT", run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await interrupt.WaitForExitAsync();
        var exited = run.WaitForExitAsync();
        (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(60)))).Should().Be(exited, "Ctrl-C drains and exits");
        var output = await run.StandardOutput.ReadToEndAsync();
        run.ExitCode.Should().Be(0, await run.StandardError.ReadToEndAsync());
        output.Should().Contain("get_users_stream");
        _kafka.Committed("sluice/get_users_stream", "users", partitions).Should().Equal(Enumerable.Repeat((long)n / partitions, partitions));
        Rows("user").Should().Be(n);
        Directory.GetFiles(Path.Combine(_dir, "offline"), "*.tmp", SearchOption.AllDirectories).Should().BeEmpty("every offline file was closed");
    }

    [Fact]
    public async Task Record_writes_a_recording_that_replays_to_the_same_features()
    {
        _kafka.Cluster.CreateTopic("users", 2);
        _kafka.Produce("users", Enumerable.Range(0, 500).Select(i => (i % 2, (string?)$"k{i}", KafkaTestKit.User(i),
            i % 5 == 0 ? new[] { ("X-Chalk-MessageType", "Transaction") } : new[] { ("X-Chalk-MessageType", "User") })));
        foreach (var ext in new[] { "arrows", "jsonl" })
        {
            var recording = Path.Combine(_dir, "users." + ext);
            bool json = ext == "jsonl"; // once as text, once with --json
            var (code, stdout, stderr) = Cli.Run(["record", "--bootstrap-servers", _kafka.Bootstrap, "--topic", "users", "--out", recording,
                "--max-messages", "500", "--from-beginning", .. json ? new[] { "--json" } : []]);
            code.Should().Be(0, stderr);
            if (json)
            {
                var result = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
                (result.GetProperty("messages").GetInt64(), result.GetProperty("kind").GetString(), result.GetProperty("out").GetString()).Should().Be((500, "kafka", recording));
            }
            else stdout.Should().Contain("recorded 500 messages");

            var replay = Cli.Run("replay", Defs(), recording, "--resolver", "get_users_stream", "--online", "sqlite:" + Path.Combine(_dir, ext + ".db"),
                "--offline", Path.Combine(_dir, ext + "-offline"), "--sink-dir", Path.Combine(_dir, ext + "-sinks"), "--json");
            replay.Code.Should().Be(0, replay.Err);
            replay.Out.Should().Contain("\"written\":400").And.Contain("\"filtered\":100");
            Cli.Run("get", Defs(), "--online", "sqlite:" + Path.Combine(_dir, ext + ".db"), "User", "7").Out.Should().Contain("\"user.full_name\": \"John Doe 7\"");
        }
        // Both formats hold the same messages: positions, keys and headers included.
        var a = await ReadRecording(Path.Combine(_dir, "users.arrows"));
        var j = await ReadRecording(Path.Combine(_dir, "users.jsonl"));
        j.Should().Equal(a);
        a.Should().Contain(x => x.StartsWith("users/1/", StringComparison.Ordinal) && x.Contains("key=k", StringComparison.Ordinal) && x.Contains("X-Chalk-MessageType=User", StringComparison.Ordinal));
    }

    private static async Task<List<string>> ReadRecording(string path)
    {
        var all = new List<string>();
        await foreach (var b in RecordingFile.ReadAsync(path))
            for (int i = 0; i < b.Length; i++)
                all.Add($"{b.Position(i)} ts={b.Timestamp.GetValue(i)} key={System.Text.Encoding.UTF8.GetString(b.Key.GetBytes(i))} value={Convert.ToHexString(b.Value.GetBytes(i))} "
                    + string.Join(",", b.HeadersOf(i).Select(h => $"{h.Key}={System.Text.Encoding.UTF8.GetString(h.Value)}")));
        return all.OrderBy(x => x, StringComparer.Ordinal).ToList();
    }
}
