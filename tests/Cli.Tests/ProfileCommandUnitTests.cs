using System.Text.Json;
using FluentAssertions;

namespace Sluice.Cli.Tests;

/// <summary>'sluice profile' on the users example (temporary embedded stores, no server).</summary>
public sealed class ProfileCommandUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-profile-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Profile_reports_every_block_with_rows_busy_time_and_queue_depth_as_a_table_and_as_json()
    {
        var json = Path.Combine(_dir, "profile.json");
        var (code, stdout, stderr) = Cli.Run("profile", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--repeat", "3", "--json", json);

        code.Should().Be(0, stderr);
        stdout.Should().Contain("get_users_stream/resolve").And.Contain("busy%").And.Contain("21 messages");
        var doc = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        doc.GetProperty("messages").GetInt64().Should().Be(21, "the 7-message recording fed 3 times");
        var blocks = doc.GetProperty("blocks").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!);
        blocks.Keys.Should().Contain(["source+batcher", "get_users_stream/resolve", "get_transactions_stream/resolve", "dedup", "fan-out", "online", "offline", "sink", "dead-letter", "ack"]);
        blocks["get_users_stream/resolve"].GetProperty("rows_in").GetInt64().Should().Be(21);
        blocks["get_users_stream/resolve"].GetProperty("rows_out").GetInt64().Should().Be(9, "3 of the 4 user messages of each pass parse; one is malformed");
        foreach (var b in blocks.Values)
        {
            b.GetProperty("busy_pct").GetDouble().Should().BeInRange(0, 100);
            b.GetProperty("queue_depth_max").GetInt64().Should().BeGreaterThanOrEqualTo(0);
        }
        (code, stdout, stderr) = Cli.Run("profile", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--json");
        code.Should().Be(0, stderr);
        var printed = JsonDocument.Parse(stdout).RootElement; // --json alone: the JSON on stdout, no table
        printed.GetProperty("messages").GetInt64().Should().Be(7);
        printed.GetProperty("blocks").EnumerateArray().Select(b => b.GetProperty("name").GetString()).Should().Contain("get_users_stream/resolve");
        Directory.GetDirectories(Path.GetTempPath(), "sluice-profile-*").Should().NotContain(d => d != _dir && File.Exists(Path.Combine(d, "online.db")),
            "profile cleans up its temporary stores");
    }
}
