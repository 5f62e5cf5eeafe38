using FluentAssertions;

namespace Sluice.Cli.Tests;

public sealed class ValidateCommandUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Valid = """
        features:
          User: {user_id: {type: int64, primary: true}, full_name: string}
        messages:
          UserMessage: {id: int64, name: string}
        sources:
          users: {kind: recording, path: users.jsonl}
        resolvers:
          get_users_stream:
            source: users
            message_type: UserMessage
            output_features: {User.user_id: _.id, User.full_name: _.name}
        """;

    [Fact]
    public void Valid_definitions_exit_0_and_list_the_resolvers()
    {
        var (code, output, _) = Cli.Run("validate", Write("sluice.yaml", Valid));
        code.Should().Be(0);
        output.Should().Contain("ok  get_users_stream: users (recording) -> UserMessage -> user.user_id, user.full_name")
            .And.Contain("1 resolver valid");
    }

    [Fact]
    public void Errors_are_all_printed_with_locations_and_exit_1()
    {
        var path = Write("bad.yaml", Valid.Replace("message_type: UserMessage", "message_type: UsersMessage", StringComparison.Ordinal)
            .Replace("User.full_name: _.name", "User.full_name: _.nme, User.email: _.name", StringComparison.Ordinal));
        var (code, output, _) = Cli.Run("validate", path);
        code.Should().Be(1);
        output.Should().Contain($"SLU205: resolver 'get_users_stream': unknown message type 'UsersMessage'; did you mean 'UserMessage'?")
            .And.Contain($"({path}:10:19)")
            .And.Contain("SLU206").And.Contain("errors in");
    }

    [Fact]
    public void Wrong_arguments_and_unreadable_files_exit_2_without_a_stack_trace()
    {
        var (code, _, err) = Cli.Run("validate");
        code.Should().Be(2);
        err.Should().Contain("error:").And.NotContain("   at ");
        (code, _, err) = Cli.Run("valdate", "x.yaml");
        code.Should().Be(2);
        err.Should().Contain("'valdate'");
        (code, _, err) = Cli.Run("validate", Path.Combine(_dir, "missing.yaml"));
        code.Should().Be(2);
        err.Should().Contain("no such file").And.NotContain("   at ");
    }

    [Fact]
    public void A_file_that_is_not_yaml_is_a_definition_error()
    {
        var (code, output, _) = Cli.Run("validate", Write("broken.yaml", "features: [unclosed"));
        code.Should().Be(1);
        output.Should().Contain("SLU201");
    }

    [Fact]
    public void Validate_json_lists_the_resolvers_or_every_error_with_its_location()
    {
        var good = Write("good.yaml", Valid);
        var (code, output, _) = Cli.Run("validate", good, "--json");
        code.Should().Be(0);
        var doc = System.Text.Json.JsonDocument.Parse(output).RootElement;
        doc.GetProperty("valid").GetBoolean().Should().BeTrue();
        var resolver = doc.GetProperty("resolvers")[0];
        (resolver.GetProperty("name").GetString(), resolver.GetProperty("kind").GetString()).Should().Be(("get_users_stream", "recording"));
        resolver.GetProperty("features").EnumerateArray().Select(f => f.GetString()).Should().Equal("user.user_id", "user.full_name");

        var bad = Write("bad.yaml", Valid.Replace("_.name}", "_.nmae}", StringComparison.Ordinal));
        (code, output, _) = Cli.Run("validate", bad, "--json");
        code.Should().Be(1);
        doc = System.Text.Json.JsonDocument.Parse(output).RootElement;
        doc.GetProperty("valid").GetBoolean().Should().BeFalse();
        var error = doc.GetProperty("errors").EnumerateArray().Single();
        error.GetProperty("code").GetString().Should().StartWith("SLU");
        error.GetProperty("message").GetString().Should().Contain("did you mean 'name'");
        (error.GetProperty("file").GetString(), error.GetProperty("line").GetInt32()).Should().Be((bad, 11));
        error.GetProperty("resolver").GetString().Should().Be("get_users_stream");
    }
}
