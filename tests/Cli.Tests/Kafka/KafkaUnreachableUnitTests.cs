using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Kafka;

/// <summary>
/// <c>sluice run</c> against a broker that is not there (a loopback port nobody listens on), as a separate process:
/// waiting for it is neither idle nor a success. The run keeps waiting past <c>--idle-exit</c>, says so in a few log
/// lines (not librdkafka's raw line every 50 ms), reports not ready on <c>/readyz</c>, and stops cleanly on SIGTERM.
/// </summary>
public sealed class KafkaUnreachableUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-kafka-down-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_unreachable_broker_is_a_readiness_state_and_a_log_line_never_an_idle_success()
    {
        int broker = LoopbackPort.Free(), metrics = LoopbackPort.Free();
        var defs = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(defs, KafkaTestKit.Definitions($"127.0.0.1:{broker}"));
        using var run = SluiceProcess.Start(_dir, ["run", defs, "--resolver", "get_users_stream", "--online", "sqlite:" + Path.Combine(_dir, "online.db"),
            "--offline", Path.Combine(_dir, "offline"), "--idle-exit", "2", "--metrics-port", metrics.ToString(CultureInfo.InvariantCulture)]);
        var stderr = run.StandardError.ReadToEndAsync();
        var stdout = run.StandardOutput.ReadToEndAsync();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string readiness = "";
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30) && !readiness.Contains("waiting for the brokers", StringComparison.Ordinal))
        {
            await Task.Delay(500);
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{metrics}/readyz"));
                response.StatusCode.Should().Be(System.Net.HttpStatusCode.ServiceUnavailable);
                readiness = await response.Content.ReadAsStringAsync();
            }
            catch (HttpRequestException) { } // not listening yet
        }
        readiness.Should().Contain($"waiting for the brokers (127.0.0.1:{broker})");
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, 8 - watch.Elapsed.TotalSeconds)));
        run.HasExited.Should().BeFalse("waiting for a broker is not idle: --idle-exit 2 does not end the run");

        using (var term = Process.Start("kill", ["-TERM", run.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
        var exited = run.WaitForExitAsync();
        (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(60)))).Should().Be(exited, "SIGTERM stops it");
        var err = await stderr;
        run.ExitCode.Should().Be(0, err);
        (await stdout).Should().Contain("0 messages");
        err.Should().NotContain("%3|", "librdkafka's lines go through the log");
        var refused = err.Split('\n').Where(l => l.Contains("Connection refused", StringComparison.Ordinal)).ToList();
        refused.Should().NotBeEmpty().And.HaveCountLessThanOrEqualTo(3, "a failed connection is written once a minute, not every 50 ms:\n" + err);
        refused[0].Should().Contain("warn").And.Contain($"127.0.0.1:{broker}");
    }
}
