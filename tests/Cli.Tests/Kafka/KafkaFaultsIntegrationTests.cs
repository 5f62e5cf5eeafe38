using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Kafka;

/// <summary>
/// Faults, each caused to a separate <c>sluice run</c> process reading librdkafka's mock cluster: the broker goes down
/// mid-stream and comes back; one of two members of a group is killed with SIGKILL; the offline folder fills up or
/// becomes read-only (a small tmpfs, mounted by the test: it needs root, as CI runs). Afterwards every message's
/// features are present and nothing was committed that was not written.
/// </summary>
public sealed class KafkaFaultsIntegrationTests : IDisposable
{
    private readonly KafkaTestKit _kafka = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-faults-").FullName;
    private readonly List<string> _mounts = [];

    public void Dispose()
    {
        foreach (var mount in _mounts) Command("umount", "-l", mount);
        _kafka.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Defs()
    {
        var path = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(path, KafkaTestKit.Definitions(_kafka.Bootstrap));
        return path;
    }

    private void Topics(int partitions)
    {
        _kafka.Cluster.CreateTopic("users", partitions);
        foreach (var t in new[] { "users-dlq", "users-json", "users-ipc" }) _kafka.Cluster.CreateTopic(t, 1);
    }

    private void Produce(int from, int count, int partitions) => _kafka.Produce("users", Enumerable.Range(from, count)
        .Select(i => (i % partitions, (string?)$"{i}", KafkaTestKit.User(i), new[] { ("X-Chalk-MessageType", "User") })));

    private Process Run(string name, string offline, int idleExit) => SluiceProcess.Start(_dir, ["run", Defs(), "--resolver", "get_users_stream",
        "--online", "sqlite:" + Path.Combine(_dir, name + ".db"), "--offline", offline, "--sink-dir", Path.Combine(_dir, name + "-sinks"),
        "--dead-letter", Path.Combine(_dir, name + "-dead.jsonl"), "--idle-exit", idleExit.ToString(CultureInfo.InvariantCulture)]);

    private static async Task<(int Code, string Output)> Exit(Process process, TimeSpan within)
    {
        var (code, stdout, stderr) = await SluiceProcess.ExitAsync(process, within);
        return (code, stdout + stderr);
    }

    private long Committed(int partitions) => _kafka.Committed("sluice/get_users_stream", "users", partitions).Where(o => o >= 0).Sum();

    [Fact]
    public async Task The_broker_going_down_mid_stream_and_coming_back_is_waited_for_and_nothing_is_lost()
    {
        const int partitions = 4, n = 100_000;
        Topics(partitions);
        Produce(0, n / 2, partitions);
        using var run = Run("online", Path.Combine(_dir, "offline"), idleExit: 5);
        _kafka.WaitFor("users-json", 4096, TimeSpan.FromSeconds(60));
        _kafka.Cluster.SetBrokerDown();
        await Task.Delay(TimeSpan.FromSeconds(8)); // longer than --idle-exit and the 1 s session: waiting is not idle
        run.HasExited.Should().BeFalse("a run whose broker is down waits for it");
        _kafka.Cluster.SetBrokerUp();
        Produce(n / 2, n / 2, partitions);

        var (code, output) = await Exit(run, TimeSpan.FromMinutes(3));
        code.Should().Be(0, output);
        SluiceProcess.Rows(Path.Combine(_dir, "online.db"), "user").Should().Be(n, output);
        Committed(partitions).Should().Be(n);
        (await SluiceProcess.OfflineValues(Path.Combine(_dir, "offline", "user"), "user.user_id")).ToHashSet().Should().HaveCount(n);
        output.Should().NotContain("%3|").And.NotContain("   at ");
    }

    [Fact]
    public async Task Record_waits_for_a_broker_that_went_down_instead_of_ending_as_if_idle()
    {
        Topics(1);
        Produce(0, 100, 1);
        var recording = Path.Combine(_dir, "users.jsonl");
        using var record = SluiceProcess.Start(_dir, ["record", "--bootstrap-servers", _kafka.Bootstrap, "--topic", "users", "--from-beginning",
            "--idle-exit", "4", "--out", recording, "--json"]);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the first 100 are read; the idle clock runs
        _kafka.Cluster.SetBrokerDown();
        await Task.Delay(TimeSpan.FromSeconds(7)); // longer than --idle-exit: waiting for the broker is not idle
        record.HasExited.Should().BeFalse("a recorder whose broker is down waits for it");
        _kafka.Cluster.SetBrokerUp();
        Produce(100, 50, 1);

        var (code, output) = await Exit(record, TimeSpan.FromMinutes(2));
        code.Should().Be(0, output);
        File.ReadLines(recording).Count(l => l.Trim().Length > 0).Should().Be(150, output);
    }

    [Fact]
    public async Task When_one_of_two_members_is_killed_the_other_finishes_the_stream()
    {
        const int partitions = 8, n = 160_000;
        Topics(partitions);
        Produce(0, n, partitions);
        var offline = Path.Combine(_dir, "offline");
        using var killed = Run("a", offline, idleExit: 5);
        // The survivor's idle limit covers the killed member's 1 s session and the rebalance after it, so that having
        // read its own share it is still there to take the dead member's partitions over.
        using var survivor = Run("b", offline, idleExit: 15);
        // Killed once both members are writing: mid-stream for each.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (SluiceProcess.Rows(Path.Combine(_dir, "a.db"), "user") == 0 || SluiceProcess.Rows(Path.Combine(_dir, "b.db"), "user") == 0)
        {
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "both members get partitions and write");
            await Task.Delay(20);
        }
        killed.Kill(); // SIGKILL: it commits nothing more and never leaves the group
        await killed.WaitForExitAsync();

        var (code, output) = await Exit(survivor, TimeSpan.FromMinutes(3));
        code.Should().Be(0, output);
        Committed(partitions).Should().Be(n, "the survivor took over the killed member's partitions and read them to the end");
        var online = SluiceProcess.Ids(Path.Combine(_dir, "a.db"), "user", "user_id");
        online.UnionWith(SluiceProcess.Ids(Path.Combine(_dir, "b.db"), "user", "user_id"));
        online.Should().HaveCount(n, "every message's features are in one of the two online stores");
        (await SluiceProcess.OfflineValues(Path.Combine(offline, "user"), "user.user_id")).ToHashSet().Should().HaveCount(n,
            "and in the offline store both wrote (the killed member's unfinished files were never committed)");
    }

    [Theory]
    [InlineData("full")]
    [InlineData("read-only")]
    public async Task An_offline_folder_that_cannot_be_written_stops_the_run_commits_nothing_unwritten_and_a_restart_loses_nothing(string fault)
    {
        const int partitions = 4, n = 100_000;
        Topics(partitions);
        var mount = Path.Combine(_dir, "mnt");
        Directory.CreateDirectory(mount);
        Command("mount", "-t", "tmpfs", "-o", fault == "full" ? "size=256k" : "size=64m", "tmpfs", mount).Should().Be(0, "the test mounts a tmpfs (root)");
        _mounts.Add(mount);
        var offline = Path.Combine(mount, "offline");
        if (fault == "read-only")
        {
            Directory.CreateDirectory(offline);
            Command("mount", "-o", "remount,ro", mount).Should().Be(0);
        }
        Produce(0, n, partitions);

        using (var failing = Run("online", offline, idleExit: 5))
        {
            var (code, output) = await Exit(failing, TimeSpan.FromMinutes(2));
            code.Should().Be(4, output);
            var errors = output.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
            errors.Should().ContainSingle(output).Which.Should().Contain($"offline store {offline}")
                .And.Contain(fault == "full" ? "No space left on device" : "Read-only file system");
            output.Should().NotContain("   at ");
        }
        Committed(partitions).Should().Be(0, "no offline file was completed, so no position may be committed");
        Directory.GetFiles(mount, "*", SearchOption.AllDirectories).Should().BeEmpty("the partial files were removed");

        Command("mount", "-o", "remount,rw,size=64m", mount).Should().Be(0); // the space is back
        using (var restarted = Run("online", offline, idleExit: 5))
        {
            var (code, output) = await Exit(restarted, TimeSpan.FromMinutes(3));
            code.Should().Be(0, output);
        }
        Committed(partitions).Should().Be(n);
        (await SluiceProcess.OfflineValues(Path.Combine(offline, "user"), "user.user_id")).ToHashSet().Should().HaveCount(n, "the restart lost nothing");
        SluiceProcess.Rows(Path.Combine(_dir, "online.db"), "user").Should().Be(n);
    }

    private static int Command(string name, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(name, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
