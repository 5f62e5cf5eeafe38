using System.Text.Json;
using FluentAssertions;

namespace Sluice.Cli.Tests;

/// <summary>
/// <c>environments:</c> restricts a resolver: without <c>--env</c> only resolvers that list none run (a dev-only resolver
/// neither writes nor dead-letters), with <c>--env dev</c> it runs beside them; naming an excluded resolver is an error.
/// </summary>
public sealed class EnvironmentsUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-env-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // The example plus a copy of its user resolver that runs only in dev.
    private string Defs()
    {
        var yaml = File.ReadAllText(Path.Combine(Example, "sluice.yaml"));
        yaml += """

              dev_users:
                source: user_updates
                message_type: UserMessage
                environments: [dev]
                output_features:
                  User.user_id: _.id
                  User.full_name: _.name
                message_header_filters: [[X-Chalk-MessageType, User]]
                skip_online: true
            """;
        var path = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private (int Code, JsonElement? Result, string Err, int DeadLetters) Replay(string run, params string[] more)
    {
        var deadLetters = Path.Combine(_dir, run + "-dead-letter.jsonl");
        var (code, output, err) = Cli.Run(["replay", Defs(), Path.Combine(Example, "users.jsonl"), "--json", "--online", $"sqlite:{Path.Combine(_dir, run + ".db")}",
            "--offline", Path.Combine(_dir, run + "-offline"), "--sink-dir", Path.Combine(_dir, run + "-sinks"), "--dead-letter", deadLetters, .. more]);
        int lines = File.Exists(deadLetters) ? File.ReadAllLines(deadLetters).Length : 0;
        return (code, code == 0 ? JsonDocument.Parse(output).RootElement.GetProperty("resolvers") : null, err, lines);
    }

    [Fact]
    public void Without_env_a_resolver_restricted_to_environments_does_not_run()
    {
        var (code, resolvers, err, deadLetters) = Replay("none");
        code.Should().Be(0, err);
        resolvers!.Value.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("get_users_stream", "get_transactions_stream");
        deadLetters.Should().Be(1, "the malformed user message is dead-lettered once, by the one user resolver that runs");
    }

    [Fact]
    public void With_env_dev_it_runs_beside_the_unrestricted_ones()
    {
        var (code, resolvers, err, deadLetters) = Replay("dev", "--env", "dev");
        code.Should().Be(0, err);
        resolvers!.Value.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("get_users_stream", "get_transactions_stream", "dev_users");
        resolvers.Value.GetProperty("dev_users").GetProperty("written").GetInt64().Should().Be(3);
        deadLetters.Should().Be(2, "each user resolver dead-letters the malformed message");
    }

    [Fact]
    public void Naming_a_resolver_its_environment_excludes_is_an_error_that_says_why()
    {
        var (code, _, err, _) = Replay("named", "--resolver", "dev_users");
        code.Should().Be(2);
        err.Should().Contain("resolver dev_users runs only in environment dev").And.Contain("--env");
        var prod = Replay("prod", "--resolver", "dev_users", "--env", "prod");
        prod.Code.Should().Be(2);
        prod.Err.Should().Contain("the environment is 'prod'");
    }

    [Fact]
    public void Profile_selects_resolvers_by_environment_too()
    {
        var (code, output, err) = Cli.Run(["profile", Defs(), Path.Combine(Example, "users.jsonl")]);
        code.Should().Be(0, err);
        output.Should().NotContain("dev_users");
        (code, output, err) = Cli.Run(["profile", Defs(), Path.Combine(Example, "users.jsonl"), "--env", "dev"]);
        code.Should().Be(0, err);
        output.Should().Contain("dev_users/resolve");
    }
}
