using System.Text.Json;
using FluentAssertions;
using Sluice.Sources;

namespace Sluice.Cli.Tests;

/// <summary>The users example through 'sluice replay' and 'sluice get' into a temp folder (embedded stores, no server).</summary>
public sealed class ReplayCommandUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-replay-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Stores => ["--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "--offline", Path.Combine(_dir, "offline"), "--sink-dir", Path.Combine(_dir, "sinks"),
        "--dead-letter", Path.Combine(_dir, "dead-letter.jsonl")];

    [Fact]
    public async Task Replay_counts_every_message_once_and_writes_online_values_sinks_and_dead_letters()
    {
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--json", .. Stores]);
        code.Should().Be(0, err);
        var doc = JsonDocument.Parse(output).RootElement;
        doc.GetProperty("messages").GetInt64().Should().Be(7);
        var users = doc.GetProperty("resolvers").GetProperty("get_users_stream");
        var tx = doc.GetProperty("resolvers").GetProperty("get_transactions_stream");
        (users.GetProperty("written").GetInt64(), users.GetProperty("filtered").GetInt64(), users.GetProperty("parse_failed").GetInt64())
            .Should().Be((3, 3, 1));
        (tx.GetProperty("written").GetInt64(), tx.GetProperty("duplicate").GetInt64(), tx.GetProperty("filtered").GetInt64()).Should().Be((1, 1, 5));
        foreach (var r in new[] { users, tx })
            r.EnumerateObject().Sum(p => p.Value.GetInt64()).Should().Be(7, "every message ends in exactly one outcome per resolver");

        // The seed message, not overwritten by the older message that arrived later.
        (code, output, _) = Cli.Run(["get", Path.Combine(Example, "sluice.yaml"), "--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "User", "123"]);
        code.Should().Be(0);
        var user = JsonDocument.Parse(output).RootElement;
        user.GetProperty("user.full_name").GetString().Should().Be("John Smith");
        user.GetProperty("user.updated_at").GetString().Should().Be("2023-11-14T22:13:20Z");
        user.GetProperty("user.email_address").GetString().Should().Be("john.smith@gmail.com");
        (code, _, err) = Cli.Run(["get", Path.Combine(Example, "sluice.yaml"), "--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "User", "125"]);
        code.Should().Be(1);
        err.Should().Contain("no User with user.user_id = 125");

        File.ReadAllLines(Path.Combine(_dir, "sinks", "user_updates_out.jsonl")).Should().Equal(
            """{"user.user_id":123,"user.updated_at":"2023-11-14T22:13:20Z"}""",
            """{"user.user_id":124,"user.updated_at":"2023-11-14T22:13:22Z"}""",
            """{"user.user_id":123,"user.updated_at":"2023-11-14T22:13:19Z"}""");

        // The dead-letter file is itself a recording: original bytes and headers plus the sluice-* headers.
        var dead = new List<Sluice.Pipeline.Messages.MessageBatch>();
        await foreach (var b in RecordingFile.ReadAsync(Path.Combine(_dir, "dead-letter.jsonl"))) dead.Add(b);
        var batch = dead.Single();
        batch.Length.Should().Be(1);
        batch.Position(0).Should().Be("users/0/4");
        var line = File.ReadAllText(Path.Combine(_dir, "dead-letter.jsonl"));
        line.Should().Contain("\"sluice-error\",\"parse failed at users/0/4: field 'id': expected an int64")
            .And.Contain("\"sluice-resolver\",\"get_users_stream\"").And.Contain("\"sluice-source\",\"users/0/4\"")
            .And.Contain("\"payload\":\"{\\\"id\\\": \\\"not a number\\\", \\\"name\\\": \\\"Broken\\\"}\"");
    }

    [Fact]
    public async Task Offline_rows_land_in_parquet_by_namespace_and_date_with_feature_time_and_resolver()
    {
        Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), .. Stores]).Code.Should().Be(0);
        var userFiles = Directory.GetFiles(Path.Combine(_dir, "offline", "user"), "*.parquet", SearchOption.AllDirectories);
        userFiles.Select(f => Path.GetFileName(Path.GetDirectoryName(f))).Should().BeEquivalentTo(["date=2023-11-14"]);
        Directory.GetFiles(Path.Combine(_dir, "offline"), "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        await using var reader = await Parquet.ParquetReader.CreateAsync(userFiles.Single());
        var fields = reader.Schema.GetDataFields();
        fields.Select(f => f.Name).Should().Equal("user.user_id", "user.full_name", "user.email_address", "user.updated_at", "__ts__", "__resolver__");
        using var group = reader.OpenRowGroupReader(0);
        var ids = new long?[group.RowCount];
        await group.ReadAsync<long>(fields[0], ids);
        ids.Should().Equal([123, 124, 123], "one row per resolved message, the older message included");
        var names = new string[group.RowCount];
        await group.ReadAsync(fields[1], names);
        names.Should().Equal("John Smith", "Maria Garcia", "Johnny (older)");
        var ts = new DateTime?[group.RowCount];
        await group.ReadAsync<DateTime>(fields[4], ts);
        ts[0].Should().Be(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc));
        var resolvers = new string[group.RowCount];
        await group.ReadAsync(fields[5], resolvers);
        resolvers.Should().AllBe("get_users_stream");
    }

    [Fact]
    public void Replay_prints_a_table_and_honours_resolver_and_environment_selection()
    {
        var (code, output, _) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--resolver", "get_transactions_stream", .. Stores]);
        code.Should().Be(0);
        output.Should().Contain("get_transactions_stream").And.NotContain("get_users_stream").And.Contain("7 messages");
        (code, _, var err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--resolver", "nope", .. Stores]);
        code.Should().Be(2);
        err.Should().Contain("unknown resolver nope");
    }

    [Fact]
    public void Replay_rejects_an_unknown_store_and_unreadable_input_with_exit_2()
    {
        Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(_dir, "missing.jsonl"), .. Stores]).Code.Should().Be(2);
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--online", "memcached://localhost:11211"]);
        code.Should().Be(2);
        err.Should().Contain("not a store URI");
        var bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "garbage\n");
        (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), bad, .. Stores]);
        code.Should().Be(2);
        err.Should().Contain($"{bad}:1:").And.NotContain("   at ");
    }

    [Fact]
    public void A_recording_that_is_not_one_is_one_clear_line_and_exit_2_and_an_empty_one_holds_no_messages()
    {
        var random = Path.Combine(_dir, "random.arrows");
        File.WriteAllBytes(random, Enumerable.Range(0, 3000).Select(i => (byte)(i * 31 % 256)).ToArray());
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), random, .. Stores]);
        code.Should().Be(2);
        err.Should().Contain("random.arrows").And.Contain("not a readable recording").And.NotContain("   at ");

        var empty = Path.Combine(_dir, "empty.arrows");
        File.WriteAllBytes(empty, []);
        string output;
        (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), empty, "--json", .. Stores]);
        code.Should().Be(0, err);
        JsonDocument.Parse(output).RootElement.GetProperty("messages").GetInt64().Should().Be(0);
    }

    [Fact]
    public async Task A_bad_line_mid_file_stops_the_run_there_with_every_store_holding_the_same_messages_and_says_how_far_it_got()
    {
        const int n = 10_000, bad = 9_001;
        var recording = Path.Combine(_dir, "users.jsonl");
        await File.WriteAllLinesAsync(recording, Enumerable.Range(1, n).Select(line => line == bad ? "this is not json" : JsonSerializer.Serialize(new
        {
            topic = "users", partition = 0, offset = line - 1, ts = 1_700_000_000_000L, key = $"{line}",
            payload = $$$"""{"id": {{{line}}}, "name": "n", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1"}}""",
            headers = new[] { "X-Chalk-MessageType", "User" },
        })));
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), recording, "--json", .. Stores]);
        code.Should().Be(2);
        err.Should().Contain($"users.jsonl:{bad}:").And.Contain($"the {bad - 1} messages before it are in every store alike").And.NotContain("   at ");
        var result = JsonDocument.Parse(output).RootElement;
        result.GetProperty("messages").GetInt64().Should().Be(bad - 1, "the outcome table of what was processed is printed");
        result.GetProperty("resolvers").GetProperty("get_users_stream").GetProperty("written").GetInt64().Should().Be(bad - 1);

        SluiceProcess.Rows(Path.Combine(_dir, "online.db"), "user").Should().Be(bad - 1, "online holds every message before the bad line");
        File.ReadAllLines(Path.Combine(_dir, "sinks", "user_updates_out.jsonl")).Should().HaveCount(bad - 1, "so does the sink");
        long offline = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(_dir, "offline", "user"), "*.parquet", SearchOption.AllDirectories))
        {
            await using var reader = await Parquet.ParquetReader.CreateAsync(file);
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                offline += group.RowCount;
            }
        }
        offline.Should().Be(bad - 1, "and the offline store");
        Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
    }

    private static string UserLine(int offset, string payload, string payloadField = "payload") =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["topic"] = "users", ["partition"] = 0, ["offset"] = offset, ["ts"] = 1_700_000_000_000L, ["key"] = $"{offset}",
            [payloadField] = payload, ["headers"] = new[] { "X-Chalk-MessageType", "User" },
        });

    // Stands for bytes that are not UTF-8 (0xFF 0xFE) in a line written by WriteLines.
    private const string InvalidUtf8 = "@@not-utf8@@";

    private static void WriteLines(string path, params string[] lines)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
        var marker = System.Text.Encoding.UTF8.GetBytes(InvalidUtf8);
        using var file = File.Create(path);
        for (int at = 0; at < text.Length;)
        {
            int next = text.AsSpan(at).IndexOf(marker);
            if (next < 0) { file.Write(text.AsSpan(at)); break; }
            file.Write(text.AsSpan(at, next));
            file.Write([0xFF, 0xFE]);
            at += next + marker.Length;
        }
    }

    private static readonly string GoodPayload = """{"id": 1, "name": "n", "updated_at": 1700000000000000, "contact_info": {"phone_number": "1"}}""";

    public static TheoryData<string, string> HostilePayloads() => new()
    {
        { "a 10 MB payload", UserLine(1, new string('x', 10_000_000)) },
        { "JSON nested 10,000 deep", UserLine(1, new string('[', 10_000) + new string(']', 10_000)) },
        { "an object nested 10,000 deep", UserLine(1, string.Concat(Enumerable.Repeat("{\"id\": ", 10_000)) + "1" + new string('}', 10_000)) },
        { "a payload that is not UTF-8 JSON", "{\"topic\":\"users\",\"offset\":1,\"headers\":[\"X-Chalk-MessageType\",\"User\"],\"value_b64\":\"/////w==\"}" },
    };

    [Theory]
    [MemberData(nameof(HostilePayloads))]
    public void A_hostile_payload_is_dead_lettered_and_counted_never_a_crash(string what, string line)
    {
        var recording = Path.Combine(_dir, "users.jsonl");
        WriteLines(recording, UserLine(0, GoodPayload), line, UserLine(2, GoodPayload.Replace("\"id\": 1", "\"id\": 2", StringComparison.Ordinal)));
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), recording, "--json", .. Stores]);
        code.Should().Be(0, $"{what}: {err}");
        err.Should().NotContain("   at ");
        var users = JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_users_stream");
        users.GetProperty("written").GetInt64().Should().Be(2, what);
        users.GetProperty("parse_failed").GetInt64().Should().Be(1, what);
        users.EnumerateObject().Sum(p => p.Value.GetInt64()).Should().Be(3, $"{what}: every message ends in one outcome");
        File.ReadAllText(Path.Combine(_dir, "dead-letter.jsonl")).Should().Contain("users/0/1", $"{what}: the dead letter carries its position");
    }

    public static TheoryData<string, string, string> HostileLines() => new()
    {
        { "a truncated last line", UserLine(1, GoodPayload)[..60], "users.jsonl:2: not a JSON object" },
        { "a line that is not JSON", "this is not json", "users.jsonl:2: not a JSON object" },
        { "a line nested 10,000 deep", "{\"topic\":\"users\",\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}", "users.jsonl:2: not a JSON object" },
        { "bad base64 in value_b64", "{\"topic\":\"users\",\"offset\":1,\"value_b64\":\"!!!not base64\"}", "users.jsonl:2: value_b64 is not base64: '!!!not base64'" },
        { "bad base64 in payload_b64", "{\"topic\":\"users\",\"offset\":1,\"payload_b64\":\"%%%\"}", "users.jsonl:2: payload_b64 is not base64" },
        { "bad base64 in key_b64", "{\"topic\":\"users\",\"offset\":1,\"key_b64\":\"*\",\"payload\":\"x\"}", "users.jsonl:2: key_b64 is not base64" },
    };

    [Theory]
    [MemberData(nameof(HostileLines))]
    public void A_hostile_recording_line_is_one_clear_line_and_exit_2_after_what_came_before_it(string what, string line, string says)
    {
        var recording = Path.Combine(_dir, "users.jsonl");
        File.WriteAllText(recording, UserLine(0, GoodPayload) + "\n" + line + (what.Contains("truncated", StringComparison.Ordinal) ? "" : "\n"));
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), recording, "--json", .. Stores]);
        code.Should().Be(2, what);
        err.Should().Contain(says, what).And.Contain("the 1 message before it is in every store alike").And.NotContain("   at ").And.NotContain("LineNumber");
        err.Trim().Split('\n').Should().ContainSingle(l => l.StartsWith("error:", StringComparison.Ordinal), what);
        JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_users_stream").GetProperty("written").GetInt64().Should().Be(1, what);
    }

    [Fact]
    public void A_recording_that_is_missing_is_one_line_and_exit_2()
    {
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(_dir, "missing.jsonl"), .. Stores]);
        code.Should().Be(2);
        err.Trim().Should().Be($"error: cannot read recording '{Path.Combine(_dir, "missing.jsonl")}': no such file");
    }

    [Fact]
    public void Bytes_that_are_not_UTF_8_in_a_jsonl_line_are_read_as_replacement_characters_and_counted()
    {
        // JSON text is UTF-8: binary payloads belong in value_b64 or an .arrows recording (docs/recordings.md says so).
        var recording = Path.Combine(_dir, "users.jsonl");
        WriteLines(recording, UserLine(0, GoodPayload), UserLine(1, GoodPayload.Replace("\"name\": \"n\"", $"\"name\": \"{InvalidUtf8}\"", StringComparison.Ordinal)));
        File.ReadAllBytes(recording).Should().ContainInOrder((byte)0xFF, (byte)0xFE);
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), recording, "--json", .. Stores]);
        code.Should().Be(0, err);
        var users = JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_users_stream");
        users.EnumerateObject().Sum(p => p.Value.GetInt64()).Should().Be(2);
        users.GetProperty("written").GetInt64().Should().Be(2);
    }

    [Theory]
    [InlineData("random bytes as the online database", "online")]
    [InlineData("random bytes as the dedup database", "dedup")]
    [InlineData("an online database under a file, not a folder", "online-under-file")]
    [InlineData("an offline folder that is a file", "offline-is-file")]
    public void A_store_file_that_is_foreign_or_cannot_be_made_is_one_line_naming_the_store_and_the_path(string what, string fault)
    {
        var junk = Path.Combine(_dir, "junk.db");
        File.WriteAllBytes(junk, Enumerable.Range(0, 5000).Select(i => (byte)(i * 131 % 251)).ToArray());
        var notAFolder = Path.Combine(_dir, "plain-file");
        File.WriteAllText(notAFolder, "x");
        string[] stores = fault switch
        {
            "online" => ["--online", $"sqlite:{junk}"],
            "dedup" => ["--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "--dedup", $"sqlite:{junk}", "--env", "prod"],
            "online-under-file" => ["--online", $"sqlite:{Path.Combine(notAFolder, "online.db")}"],
            _ => ["--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "--offline", notAFolder],
        };
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"),
            "--sink-dir", Path.Combine(_dir, "sinks"), "--dead-letter", Path.Combine(_dir, "dead.jsonl"), .. stores]);
        code.Should().Be(2, what);
        var error = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle(l => l.StartsWith("error:", StringComparison.Ordinal), what).Which;
        error.Should().Contain(fault.StartsWith("offline", StringComparison.Ordinal) ? notAFolder : fault == "online-under-file" ? notAFolder : junk, what);
        err.Should().NotContain("   at ", what);
    }

    [Fact]
    public void A_file_that_is_not_parquet_in_the_offline_folder_is_left_alone()
    {
        var foreign = Path.Combine(_dir, "offline", "user", "date=2023-11-14", "notes.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        File.WriteAllText(foreign, "not parquet");
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), .. Stores]);
        code.Should().Be(0, err);
        File.ReadAllText(foreign).Should().Be("not parquet");
        Directory.GetFiles(Path.GetDirectoryName(foreign)!, "part-*.parquet").Should().ContainSingle();
    }

    [Fact]
    public void Fail_on_dead_letters_exits_1_when_a_message_was_dead_lettered_and_0_when_none_was()
    {
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--fail-on-dead-letters", .. Stores]);
        code.Should().Be(1, "the example holds one malformed message");
        output.Should().Contain("get_users_stream", "the outcome table is printed first");
        err.Should().Contain("1 message was dead-lettered (--fail-on-dead-letters)");

        var clean = Path.Combine(_dir, "clean.jsonl");
        File.WriteAllLines(clean, File.ReadLines(Path.Combine(Example, "users.jsonl")).Where(l => !l.Contains("not a number", StringComparison.Ordinal)));
        (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), clean, "--fail-on-dead-letters", .. Stores]);
        code.Should().Be(0, err);
    }

    [Fact]
    public void Sluice_without_a_command_prints_the_help()
    {
        var (code, output, _) = Cli.Run([]);
        code.Should().Be(0);
        output.Should().Contain("Usage:").And.Contain("replay").And.Contain("validate");
    }
}
