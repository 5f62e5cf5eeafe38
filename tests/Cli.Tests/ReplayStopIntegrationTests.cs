using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using Sluice.Pipeline.Messages;
using Sluice.Sources;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests;

/// <summary>
/// SIGTERM in the middle of a long <c>sluice replay</c>, a separate process: it used to crash (a TaskCanceledException,
/// a segmentation fault, Parquet's "Column '__ts__' has 0 rows, but the row group expects 67232 rows"), leave a
/// <c>.parquet.tmp</c> and leave the stores out of step. Now it stops cleanly: exit 0, the outcome table of what was
/// processed, and online, offline and the sink holding exactly those messages.
/// </summary>
public sealed class ReplayStopIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-replay-stop-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SIGTERM_mid_replay_stops_cleanly_with_every_store_holding_what_was_processed()
    {
        const int n = 2_000_000;
        var recording = Path.Combine(_dir, "users.arrows");
        await RecordingFile.WriteAsync(recording, Batches(n));
        var offline = Path.Combine(_dir, "offline");
        using var replay = SluiceProcess.Start(_dir, ["replay", Path.Combine(Example, "sluice.yaml"), recording, "--json",
            "--online", "sqlite:" + Path.Combine(_dir, "online.db"), "--offline", offline, "--sink-dir", Path.Combine(_dir, "sinks"),
            "--dead-letter", Path.Combine(_dir, "dead.jsonl")]);
        var stdout = replay.StandardOutput.ReadToEndAsync();
        var stderr = replay.StandardError.ReadToEndAsync();

        // Mid-stream: rows online, an offline file open (its row groups being written), the sink being appended.
        var watch = Stopwatch.StartNew();
        while (!(SluiceProcess.Rows(Path.Combine(_dir, "online.db"), "user") > 0
                 && Directory.Exists(offline) && Directory.GetFiles(offline, "*.tmp", SearchOption.AllDirectories).Length > 0))
        {
            if (replay.HasExited) throw new InvalidOperationException($"the replay ended before it could be stopped mid-stream (exit {replay.ExitCode}):\n{await stdout}\n{await stderr}");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
            await Task.Delay(50);
        }
        using (var term = Process.Start("kill", ["-TERM", replay.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
        var exited = replay.WaitForExitAsync();
        (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(60)))).Should().Be(exited, "SIGTERM drains and exits");
        var err = await stderr;
        replay.ExitCode.Should().Be(0, err);
        err.Should().NotContain("   at ").And.Contain("stopped cleanly");

        var result = JsonDocument.Parse(await stdout).RootElement;
        long processed = result.GetProperty("messages").GetInt64();
        processed.Should().BeInRange(1, n - 1, "the stop came mid-stream");
        long written = result.GetProperty("resolvers").GetProperty("get_users_stream").GetProperty("written").GetInt64();
        written.Should().Be(processed, "every message is a User");
        SluiceProcess.Rows(Path.Combine(_dir, "online.db"), "user").Should().Be(written, "online holds what was processed");
        (await SluiceProcess.OfflineValues(Path.Combine(offline, "user"), "user.user_id")).Should().HaveCount((int)written, "and offline");
        File.ReadLines(Path.Combine(_dir, "sinks", "user_updates_out.jsonl")).LongCount().Should().Be(written, "and the sink");
        Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty("every offline file was completed");
    }

    private static async IAsyncEnumerable<MessageBatch> Batches(int n)
    {
        var headers = new[] { new KeyValuePair<string, byte[]>("X-Chalk-MessageType", "User"u8.ToArray()) };
        for (int start = 0; start < n; start += 4096)
        {
            var b = new MessageBatch.Builder();
            for (int i = start; i < Math.Min(n, start + 4096); i++)
                b.Append("users", 0, i, 1_700_000_000_000_000 + i * 1000L, null, KafkaTestKit.User(i), headers);
            yield return b.Build();
            await Task.Yield();
        }
    }
}
