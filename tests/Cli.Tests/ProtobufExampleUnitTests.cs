using System.Text.Json;
using FluentAssertions;

namespace Sluice.Cli.Tests;

/// <summary>
/// The seed's prefixed-protobuf example through the CLI: a 6-byte prefix stripped by the parse expression, GUEST users
/// skipped, a truncated message dead-lettered, the rest written and read back with 'sluice get'.
/// </summary>
public sealed class ProtobufExampleUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-proto-cli-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "protobuf-users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Replay_writes_members_skips_guests_and_dead_letters_the_malformed_message()
    {
        var online = $"sqlite:{Path.Combine(_dir, "online.db")}";
        var (code, output, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), "--json",
            "--online", online, "--offline", Path.Combine(_dir, "offline"), "--dead-letter", Path.Combine(_dir, "dead.jsonl")]);
        code.Should().Be(0, err);
        var users = JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_users_stream");
        (users.GetProperty("written").GetInt64(), users.GetProperty("skipped").GetInt64(), users.GetProperty("parse_failed").GetInt64())
            .Should().Be((4, 1, 1));

        (code, output, _) = Cli.Run(["get", Path.Combine(Example, "sluice.yaml"), "--online", online, "User", "125"]);
        code.Should().Be(0);
        var ada = JsonDocument.Parse(output).RootElement;
        ada.GetProperty("user.full_name").GetString().Should().Be("Ada Lovelace");
        ada.GetProperty("user.email_address").ValueKind.Should().Be(JsonValueKind.Null, "ContactInfo.email_address is optional and absent");
        ada.GetProperty("user.updated_at").GetString().Should().Be("2023-11-14T22:13:22Z");
        (code, output, _) = Cli.Run(["get", Path.Combine(Example, "sluice.yaml"), "--online", online, "User", "123"]);
        JsonDocument.Parse(output).RootElement.GetProperty("user.email_address").GetString().Should().Be("john@smith.dev", "the later message wins");
        (code, _, err) = Cli.Run(["get", Path.Combine(Example, "sluice.yaml"), "--online", online, "User", "124"]);
        code.Should().Be(1, "the GUEST user was skipped");

        var dead = File.ReadAllText(Path.Combine(_dir, "dead.jsonl"));
        dead.Should().Contain("\"sluice-source\",\"users/0/4\"").And.Contain("truncated message");
    }

    [Fact]
    public void Validate_reports_the_seeds_duplicate_field_number_at_its_proto_line()
    {
        File.WriteAllText(Path.Combine(_dir, "sluice.yaml"), File.ReadAllText(Path.Combine(Example, "sluice.yaml")));
        Directory.CreateDirectory(Path.Combine(_dir, "protos"));
        var proto = File.ReadAllText(Path.Combine(Example, "protos", "user.proto")).Replace("email_address = 2", "email_address = 1", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_dir, "protos", "user.proto"), proto);
        var (code, output, _) = Cli.Run(["validate", Path.Combine(_dir, "sluice.yaml")]);
        code.Should().Be(1);
        int line = proto.Split('\n').ToList().FindIndex(l => l.Contains("email_address = 1", StringComparison.Ordinal)) + 1;
        output.Should().Contain("SLU223").And.Contain($"user.proto:{line}:").And.Contain("field 1 is already in use by 'phone_number'");
    }
}
