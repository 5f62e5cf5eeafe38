using FluentAssertions;

namespace Sluice.Cli.Tests.PubSub;

/// <summary>
/// A Pub/Sub source with no credentials (no emulator, no token, no credentials file) or a credentials file that is not
/// there: the run stops at start with one line naming the source, exit 2 (it was an unhandled exception, exit 134).
/// </summary>
public sealed class PubSubCredentialsUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pubsub-creds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("", "no credentials: set PUBSUB_EMULATOR_HOST")]
    [InlineData(", credentials: /nonexistent/token", "the credentials file '/nonexistent/token' does not exist")]
    public async Task Missing_credentials_are_one_line_at_start(string options, string says)
    {
        var defs = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(defs, $$"""
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              UserMessage: {id: int64, name: string}
            sources:
              users: {kind: pubsub, project_id: p, subscription_id: s{{options}}}
            resolvers:
              r:
                source: users
                message_type: UserMessage
                output_features: {User.user_id: _.id, User.full_name: _.name}
            """);
        using var run = SluiceProcess.Start(_dir, ["run", defs, "--online", "sqlite:" + Path.Combine(_dir, "online.db"), "--offline", Path.Combine(_dir, "offline")],
            new Dictionary<string, string> { ["PUBSUB_EMULATOR_HOST"] = "", ["GOOGLE_OAUTH_ACCESS_TOKEN"] = "" });
        var (code, _, err) = await SluiceProcess.ExitAsync(run, TimeSpan.FromSeconds(60));
        code.Should().Be(2, err);
        err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain("source users (pubsub): " + says);
        err.Should().NotContain("   at ");
    }
}
