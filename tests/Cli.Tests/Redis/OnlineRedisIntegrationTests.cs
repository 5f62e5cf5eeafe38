using System.Text.Json;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Redis;

/// <summary><c>replay</c> and <c>get</c> with <c>--online redis://</c> against a real redis-server on a free loopback port.</summary>
public sealed class OnlineRedisIntegrationTests : IAsyncLifetime
{
    private RedisServerProcess _redis = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-cli-redis-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public async Task InitializeAsync() => _redis = await RedisServerProcess.StartAsync(password: "pw-123");

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string[] Stores => ["--online", _redis.Uri, "--offline", Path.Combine(_dir, "offline"), "--sink-dir", Path.Combine(_dir, "sinks"),
        "--dead-letter", Path.Combine(_dir, "dead.jsonl")];

    [Fact]
    public void Replay_into_redis_then_get_reads_the_same_values_as_the_embedded_store()
    {
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--json", .. Stores]);
        code.Should().Be(0, err);
        var users = JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_users_stream");
        users.GetProperty("written").GetInt64().Should().Be(3);
        var tx = JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_transactions_stream");
        tx.GetProperty("duplicate").GetInt64().Should().Be(1, "dedup runs on Redis too");

        var fromRedis = Cli.Run("get", Path.Combine(Example, "sluice.yaml"), "--online", _redis.Uri, "User", "123");
        fromRedis.Code.Should().Be(0, fromRedis.Err);
        Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--online", "sqlite:" + Path.Combine(_dir, "o.db"),
            "--offline", Path.Combine(_dir, "offline2"), "--sink-dir", Path.Combine(_dir, "sinks2"), "--dead-letter", Path.Combine(_dir, "dead2.jsonl")]).Code.Should().Be(0);
        var fromSqlite = Cli.Run("get", Path.Combine(Example, "sluice.yaml"), "--online", "sqlite:" + Path.Combine(_dir, "o.db"), "User", "123");
        JsonDocument.Parse(fromRedis.Out).RootElement.ToString().Should().Be(JsonDocument.Parse(fromSqlite.Out).RootElement.ToString());

        var unknown = Cli.Run("get", Path.Combine(Example, "sluice.yaml"), "--online", _redis.Uri, "User", "999999");
        unknown.Code.Should().Be(1);
        unknown.Err.Should().Contain("no User").And.NotContain("pw-123");
    }

    [Fact]
    public async Task A_bad_uri_or_an_unreachable_server_is_a_clear_error_without_the_password()
    {
        var bad = Cli.Run("get", Path.Combine(Example, "sluice.yaml"), "--online", "redis://:pw-123@127.0.0.1:1/notadb", "User", "1");
        bad.Code.Should().Be(2);
        bad.Err.Should().Contain("database").And.NotContain("pw-123");

        await _redis.StopAsync();
        var down = Cli.Run("get", Path.Combine(Example, "sluice.yaml"), "--online", _redis.Uri, "User", "1");
        down.Code.Should().Be(2);
        down.Err.Should().Contain("online store").And.Contain("127.0.0.1").And.NotContain("pw-123");
    }
}
