using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Redis;

/// <summary>
/// <c>replay</c> and <c>get</c> with <c>--online redis://h1:p1,h2:p2,h3:p3</c> against a real three-master Redis Cluster on
/// loopback, read back with <c>redis-cli -c</c> as an operator would.
/// </summary>
public sealed class OnlineRedisClusterIntegrationTests : IAsyncLifetime
{
    private RedisCluster _cluster = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-cli-cluster-").FullName;
    private static readonly string Definition = Path.Combine(AppContext.BaseDirectory, "examples", "users", "sluice.yaml");

    public async Task InitializeAsync() => _cluster = await RedisCluster.StartAsync();

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string[] Stores(string name) => ["--online", _cluster.Uri, "--offline", Path.Combine(_dir, name, "offline"),
        "--sink-dir", Path.Combine(_dir, name, "sinks"), "--dead-letter", Path.Combine(_dir, name, "dead.jsonl")];

    /// <summary>
    /// A recording in the example's shape: one <c>User</c> message per entity (name <paramref name="tag"/>+id, message time
    /// from <paramref name="time"/>), then transactions of which every tenth is a redelivered duplicate of the one before.
    /// </summary>
    private string Recording(string name, int users, string tag, Func<int, long> time, int transactions = 0)
    {
        var path = Path.Combine(_dir, name + ".jsonl");
        using var w = new StreamWriter(path);
        long offset = 0;
        for (int i = 0; i < users; i++)
        {
            var payload = $$$"""{"id": {{{i}}}, "name": "{{{tag}}}{{{i}}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1"}}""";
            w.WriteLine(JsonSerializer.Serialize(new { topic = "users", partition = 0, offset = offset++, ts = time(i), headers = new[] { "X-Chalk-MessageType", "User" }, key = $"{i}", payload }));
        }
        for (int i = 0; i < transactions; i++)
        {
            int id = i % 10 == 9 ? i - 1 : i;
            var payload = $$"""{"id": {{id}}, "submitted": 1700000001000000, "amount": {{id}}}""";
            w.WriteLine(JsonSerializer.Serialize(new { topic = "users", partition = 0, offset = offset++, ts = 1_700_000_000_000L + i, headers = new[] { "X-Chalk-MessageType", "Transaction" }, key = $"{id}", payload }));
        }
        return path;
    }

    /// <summary><c>redis-cli -c</c> against the first master with <paramref name="args"/>, <paramref name="input"/> its commands on stdin.</summary>
    private (int Code, string Out) RedisCli(string[] args, string input = "")
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-c", "-p", _cluster.Masters[0].Port.ToString(CultureInfo.InvariantCulture) }.Concat(args)) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output.Trim());
    }

    private long KeysOnCluster(string pattern) => _cluster.Masters.Sum(m =>
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true };
        foreach (var a in new[] { "-p", m.Port.ToString(CultureInfo.InvariantCulture), "--scan", "--pattern", pattern }) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var lines = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        p.WaitForExit();
        return (long)lines;
    });

    [Fact]
    public void Replay_into_a_cluster_writes_every_entity_where_redis_cli_and_get_find_it_and_dedup_holds()
    {
        const int users = 600, transactions = 200;
        var recording = Recording("one", users, "u", i => 1_700_000_000_000L + i, transactions);
        var (code, output, err) = Cli.Run(["replay", Definition, recording, "--json", .. Stores("one")]);
        code.Should().Be(0, err);
        var resolvers = JsonDocument.Parse(output).RootElement.GetProperty("resolvers");
        resolvers.GetProperty("get_users_stream").GetProperty("written").GetInt64().Should().Be(users);
        resolvers.GetProperty("get_transactions_stream").GetProperty("written").GetInt64().Should().Be(transactions - transactions / 10);
        resolvers.GetProperty("get_transactions_stream").GetProperty("duplicate").GetInt64().Should().Be(transactions / 10, "dedup runs on the cluster too");

        KeysOnCluster("sluice:user:*").Should().Be(users, "every entity is a key on one of the masters");
        foreach (var m in _cluster.Masters)
            RedisCli(["-p", m.Port.ToString(CultureInfo.InvariantCulture), "DBSIZE"]).Out.Should().NotBe("0", "the entities spread over every master");
        // Every entity, through redis-cli -c (which follows the cluster's redirections) and through sluice get.
        var fields = RedisCli([], string.Concat(Enumerable.Range(0, users).Select(i => $"HGET sluice:user:{i} user.full_name\n"))).Out.Split('\n')
            .Where(l => !l.StartsWith("-> Redirected", StringComparison.Ordinal)).ToArray(); // what -c says as it follows a MOVED
        fields.Should().HaveCount(users);
        for (int i = 0; i < users; i++)
        {
            var field = fields[i].Split(' ', 3);
            field[0].Should().Be(((1_700_000_000_000L + i) * 1000).ToString(CultureInfo.InvariantCulture), "the feature time in microseconds");
            field[2].Should().Be($"\"u{i}\"");
            var get = Cli.Run("get", Definition, "--online", _cluster.Uri, "User", i.ToString(CultureInfo.InvariantCulture));
            get.Code.Should().Be(0, get.Err);
            JsonDocument.Parse(get.Out).RootElement.GetProperty("user.full_name").GetString().Should().Be($"u{i}");
        }
    }

    [Fact]
    public async Task Two_sluice_processes_writing_the_same_entities_at_once_leave_the_newest_value_of_each()
    {
        const int users = 2000;
        // Per entity, one of the two recordings carries the newer message time: which one alternates in runs of seven.
        Func<int, long> timeA = i => 1_700_000_000_000L + (i / 7 % 2 == 0 ? 2 * i + 1 : 2 * i);
        Func<int, long> timeB = i => 1_700_000_000_000L + (i / 7 % 2 == 0 ? 2 * i : 2 * i + 1);
        var a = SluiceProcess.Start(_dir, ["replay", Definition, Recording("a", users, "a", timeA), .. Stores("a")]);
        var b = SluiceProcess.Start(_dir, ["replay", Definition, Recording("b", users, "b", timeB), .. Stores("b")]);
        var errA = a.StandardError.ReadToEndAsync();
        var errB = b.StandardError.ReadToEndAsync();
        _ = a.StandardOutput.ReadToEndAsync();
        _ = b.StandardOutput.ReadToEndAsync();
        await Task.WhenAll(a.WaitForExitAsync(), b.WaitForExitAsync());
        a.ExitCode.Should().Be(0, await errA);
        b.ExitCode.Should().Be(0, await errB);

        KeysOnCluster("sluice:user:*").Should().Be(users);
        for (int i = 0; i < users; i += 53)
        {
            var get = Cli.Run("get", Definition, "--online", _cluster.Uri, "User", i.ToString(CultureInfo.InvariantCulture));
            get.Code.Should().Be(0, get.Err);
            JsonDocument.Parse(get.Out).RootElement.GetProperty("user.full_name").GetString().Should()
                .Be(timeA(i) > timeB(i) ? $"a{i}" : $"b{i}", "the value with the newer feature time wins whichever process wrote last");
        }
    }
}
