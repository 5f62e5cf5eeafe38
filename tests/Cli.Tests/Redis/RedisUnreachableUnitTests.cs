using System.Diagnostics;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Redis;

/// <summary>
/// A Redis that never answers (a loopback port nobody listens on): the run retries for <c>retry_for</c>, then fails
/// with one line naming the store, its URI without the password and the cause, exit 4, and no stack trace.
/// </summary>
public sealed class RedisUnreachableUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-redis-down-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Past_its_retry_window_the_run_fails_with_one_line_that_names_redis_and_the_cause()
    {
        int port = LoopbackPort.Free(); // nothing listens there
        var watch = Stopwatch.StartNew();
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"),
            "--online", $"redis://:hunter2-pw@127.0.0.1:{port}?retry_for=3", "--offline", Path.Combine(_dir, "offline"), "--sink-dir", Path.Combine(_dir, "sinks"),
            "--dead-letter", Path.Combine(_dir, "dead.jsonl")]);
        code.Should().Be(4, "Redis failed while running, after its retries");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "retry_for=3 bounds the retries (the default is 2 minutes)");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Where(l => l.StartsWith("error:", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain($"redis://***@127.0.0.1:{port}?retry_for=3").And.Contain("gave up after");
        err.Should().NotContain("hunter2-pw").And.NotContain("   at ");
    }

    [Fact]
    public void A_retry_window_that_is_not_whole_seconds_is_refused_naming_the_option()
    {
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"),
            "--online", "redis://127.0.0.1:1?retry_for=soon", "--offline", Path.Combine(_dir, "offline")]);
        code.Should().Be(2);
        err.Should().Contain("retry_for");
    }
}
