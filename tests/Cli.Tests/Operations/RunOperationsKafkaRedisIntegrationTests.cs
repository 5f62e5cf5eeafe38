using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Operations;

/// <summary>
/// <c>sluice run</c> as a service, a separate process against librdkafka's mock cluster and a real redis-server: its
/// Prometheus exposition (checked by <c>promtool</c>) counts what its outcome table counts, <c>/readyz</c> follows the
/// source's assignment and the store's reachability, logs are JSON lines without secrets, and SIGTERM stops it cleanly
/// while a second signal or <c>--shutdown-timeout</c> stops it at once, committing nothing unwritten.
/// </summary>
public sealed class RunOperationsKafkaRedisIntegrationTests : IDisposable
{
    private const int Partitions = 4;
    private readonly KafkaTestKit _kafka = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-ops-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public RunOperationsKafkaRedisIntegrationTests()
    {
        _kafka.Cluster.CreateTopic("users", Partitions);
        foreach (var t in new[] { "users-dlq", "users-json", "users-ipc" }) _kafka.Cluster.CreateTopic(t, 1);
    }

    public void Dispose()
    {
        _http.Dispose();
        _kafka.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Defs()
    {
        var path = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(path, KafkaTestKit.Definitions(_kafka.Bootstrap));
        return path;
    }

    private void ProduceUsers(int from, int count) => _kafka.Produce("users", Enumerable.Range(from, count)
        .Select(i => (i % Partitions, (string?)$"{i}", KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));

    private Process Run(string online, int port, params string[] more) => SluiceProcess.Start(_dir,
        ["run", Defs(), "--resolver", "get_users_stream", "--online", online, "--offline", Path.Combine(_dir, "offline"), "--metrics-port",
            port.ToString(CultureInfo.InvariantCulture), .. more]);

    private async Task<(HttpStatusCode Status, string Body)> Get(int port, string path)
    {
        try
        {
            using var r = await _http.GetAsync(new Uri($"http://127.0.0.1:{port}{path}"));
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException) { return (0, ""); } // not listening yet
        catch (TaskCanceledException) { return (0, ""); }
    }

    /// <summary>Polls <paramref name="path"/> until <paramref name="done"/> holds; returns every status seen, in order.</summary>
    private async Task<List<HttpStatusCode>> PollUntil(int port, string path, Func<HttpStatusCode, string, bool> done, TimeSpan timeout, Process process)
    {
        var seen = new List<HttpStatusCode>();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            process.HasExited.Should().BeFalse("the run serves until stopped: " + (process.HasExited ? await process.StandardError.ReadToEndAsync() : ""));
            var (status, body) = await Get(port, path);
            if (status != 0 && (seen.Count == 0 || seen[^1] != status)) seen.Add(status);
            if (status != 0 && done(status, body)) return seen;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} never satisfied the condition; last {status}: {body}");
            await Task.Delay(50);
        }
    }

    private static long Sample(string exposition, string metric, params (string Label, string Value)[] labels) => exposition.Split('\n')
        .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) && labels.All(x => l.Contains($"{x.Label}=\"{x.Value}\"", StringComparison.Ordinal)))
        .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static async Task<int> Stop(Process p, string signal = "TERM")
    {
        using (var kill = Process.Start("kill", ["-" + signal, p.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        var exited = p.WaitForExitAsync();
        (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(60)))).Should().Be(exited, "a stop signal ends the run");
        return p.ExitCode;
    }

    private static Dictionary<string, long> Outcomes(string json, string resolver) => JsonDocument.Parse(json).RootElement
        .GetProperty("resolvers").GetProperty(resolver).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    [Fact]
    public async Task The_metrics_count_what_the_outcome_table_counts_and_pass_promtool()
    {
        const int users = 3000, transactions = 500, malformed = 7;
        ProduceUsers(0, users);
        _kafka.Produce("users", Enumerable.Range(0, transactions).Select(i => (i % Partitions, (string?)null, KafkaTestKit.Transaction(i), new[] { ("X-Chalk-MessageType", "Transaction") })));
        _kafka.Produce("users", Enumerable.Range(0, malformed).Select(i => (i % Partitions, (string?)null, "{\"id\": \"not a number\""u8.ToArray(), new[] { ("X-Chalk-MessageType", "User") })));
        int port = LoopbackPort.Free();
        using var run = Run("sqlite:" + Path.Combine(_dir, "online.db"), port, "--json");
        // Every message counted and committed (commits follow the writes by up to the commit interval).
        await PollUntil(port, "/metrics", (_, body) => Sample(body, "sluice_messages_total", ("resolver", "get_users_stream")) == users + transactions + malformed
            && Sample(body, "sluice_source_committed_offset", ("source", "user_updates")) == users + transactions + malformed, TimeSpan.FromSeconds(90), run);
        var (status, exposition) = await Get(port, "/metrics");
        status.Should().Be(HttpStatusCode.OK);

        var promtool = Process.Start(new ProcessStartInfo("promtool", ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
        await promtool.StandardInput.WriteAsync(exposition);
        promtool.StandardInput.Close();
        string lint = await promtool.StandardError.ReadToEndAsync() + await promtool.StandardOutput.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        promtool.ExitCode.Should().Be(0, "promtool accepts the exposition: " + lint);

        int code = await Stop(run);
        var stderr = await run.StandardError.ReadToEndAsync();
        code.Should().Be(0, stderr);
        stderr.Should().Contain($"resolver get_users_stream: {malformed} messages dead-lettered", "dead letters are logged as a burst, not one line each");
        var table = Outcomes(await run.StandardOutput.ReadToEndAsync(), "get_users_stream");
        table["written"].Should().Be(users);
        table["filtered"].Should().Be(transactions);
        table["parse_failed"].Should().Be(malformed);
        foreach (var (outcome, count) in table)
            Sample(exposition, "sluice_messages_total", ("resolver", "get_users_stream"), ("outcome", outcome)).Should().Be(count, $"the {outcome} counter is the table's");
        Sample(exposition, "sluice_dead_letters_total", ("resolver", "get_users_stream")).Should().Be(malformed);
        Sample(exposition, "sluice_store_rows_total", ("store", "sink")).Should().Be(users);
        Sample(exposition, "sluice_batch_size_sum", ("source", "user_updates")).Should().Be(users + transactions + malformed);
        Sample(exposition, "sluice_source_lag", ("source", "user_updates")).Should().Be(0, "everything was read");
        exposition.Should().Contain("sluice_store_write_duration_seconds_bucket{").And.Contain("sluice_block_queue_depth{")
            .And.Contain("sluice_source_committed_offset{");
    }

    [Fact]
    public async Task Readyz_waits_for_the_assignment_and_answers_503_while_redis_is_down_and_logs_say_so_without_the_password()
    {
        await using var redis = await RedisServerProcess.StartAsync(password: "s3cret-pw-42");
        await redis.StopAsync(); // down when the run starts
        ProduceUsers(0, 1000);
        int port = LoopbackPort.Free();
        using var run = Run(redis.Uri, port, "--log-format", "json");
        await PollUntil(port, "/healthz", (s, _) => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), run);
        var seen = await PollUntil(port, "/readyz", (_, b) => b.Contains("store redis", StringComparison.Ordinal), TimeSpan.FromSeconds(30), run);
        seen.Should().Equal([HttpStatusCode.ServiceUnavailable], "nothing is ready before the store answered");
        await Task.Delay(1000);
        var (status, body) = await Get(port, "/readyz");
        status.Should().Be(HttpStatusCode.ServiceUnavailable, "the store never answered: " + body);
        body.Should().Contain("store redis").And.NotContain("s3cret-pw-42");
        await redis.RestartAsync(TimeSpan.Zero);
        await PollUntil(port, "/readyz", (s, _) => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60), run);
        (await Get(port, "/readyz")).Body.Should().Contain("source user_updates (get_users_stream): ready");
        _kafka.WaitFor("users-json", 1000, TimeSpan.FromSeconds(60));

        await redis.StopAsync();
        ProduceUsers(1000, 100); // writes to the stopped server retry
        await PollUntil(port, "/readyz", (s, _) => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), run);
        (await Get(port, "/readyz")).Body.Should().Contain("store redis");
        (await Get(port, "/healthz")).Status.Should().Be(HttpStatusCode.OK, "the process still serves");
        await redis.RestartAsync(TimeSpan.Zero);
        await PollUntil(port, "/readyz", (s, _) => s == HttpStatusCode.OK, TimeSpan.FromSeconds(60), run);
        _kafka.WaitFor("users-json", 1100, TimeSpan.FromSeconds(60));

        (await Stop(run)).Should().Be(0);
        var stderr = await run.StandardError.ReadToEndAsync();
        stderr.Should().NotContain("s3cret-pw-42", "a password never appears in logs");
        var events = stderr.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        events.Should().Contain(e => e.GetProperty("category").GetString() == "Sluice.Kafka" && e.GetProperty("message").GetString()!.Contains("assigned", StringComparison.Ordinal));
        events.Should().Contain(e => e.GetProperty("category").GetString() == "Sluice.Redis" && e.GetProperty("level").GetString() == "warn");
        events.Should().Contain(e => e.GetProperty("message").GetString()!.StartsWith("stopped cleanly", StringComparison.Ordinal));
        events.Select(e => e.TryGetProperty("timestamp", out var t) && e.TryGetProperty("level", out var l)).Should().AllBeEquivalentTo(true);
        events.Count(e => e.GetProperty("category").GetString() == "Sluice.Redis" && e.GetProperty("level").GetString() == "warn")
            .Should().BeLessThan(20, "an outage is logged once per event, not once per retry or message");
    }

    [Fact]
    public async Task Sigterm_mid_stream_exits_0_and_a_restart_reads_only_what_was_not_committed()
    {
        const int n = 100_000;
        ProduceUsers(0, n);
        string online = "sqlite:" + Path.Combine(_dir, "online.db");
        long first;
        using (var run = Run(online, LoopbackPort.Free(), "--json"))
        {
            _kafka.WaitFor("users-json", 8192, TimeSpan.FromSeconds(60));
            (await Stop(run)).Should().Be(0, "SIGTERM drains, commits and exits 0");
            var table = Outcomes(await run.StandardOutput.ReadToEndAsync(), "get_users_stream");
            first = table.Values.Sum();
        }
        first.Should().BeGreaterThan(0);
        _kafka.Committed("sluice/get_users_stream", "users", Partitions).Sum().Should().Be(first, "exactly what it processed is committed");
        if (first == n) return; // it read everything before the signal: nothing is left to prove

        using var again = Run(online, LoopbackPort.Free(), "--json", "--idle-exit", "3");
        var exited = again.WaitForExitAsync();
        (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(90)))).Should().Be(exited);
        again.ExitCode.Should().Be(0, await again.StandardError.ReadToEndAsync());
        Outcomes(await again.StandardOutput.ReadToEndAsync(), "get_users_stream").Values.Sum().Should().Be(n - first, "the restart reads only what was not committed");
    }

    [Theory]
    [InlineData("timeout")]
    [InlineData("second signal")]
    public async Task A_stop_that_cannot_drain_exits_3_and_commits_nothing_unwritten(string how)
    {
        await using var redis = await RedisServerProcess.StartAsync();
        ProduceUsers(0, 2000);
        using var run = Run(redis.Uri, LoopbackPort.Free(), "--shutdown-timeout", how == "timeout" ? "3" : "120");
        _kafka.WaitFor("users-json", 2000, TimeSpan.FromSeconds(60));
        await redis.StopAsync(); // the next writes retry for minutes: the drain cannot finish
        ProduceUsers(2000, 2000);
        _kafka.WaitFor("users-json", 4000, TimeSpan.FromSeconds(60)); // read and sunk, not yet in Redis
        var watch = Stopwatch.StartNew();
        if (how == "timeout") (await Stop(run)).Should().Be(3);
        else
        {
            using (var first = Process.Start("kill", ["-TERM", run.Id.ToString(CultureInfo.InvariantCulture)])) await first.WaitForExitAsync();
            await Task.Delay(500);
            (await Stop(run)).Should().Be(3);
        }
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "it does not wait for the store's retries");
        (await run.StandardError.ReadToEndAsync()).Should().Contain("stopping at once");
        _kafka.Committed("sluice/get_users_stream", "users", Partitions).Where(o => o >= 0).Sum().Should().BeLessThanOrEqualTo(2000, "what never reached Redis is not committed");
    }
}
