using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.PubSub;

/// <summary>
/// A Pub/Sub source with no credentials (no emulator, no token, no credentials file) or a credentials file that is not
/// there, or one that is not a credential, and no application default credentials: the run stops at start with one
/// line naming the source, exit 2 (it was an unhandled exception, exit 134).
/// </summary>
public sealed class PubSubCredentialsUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pubsub-creds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("", "no credentials: set credentials (a service-account key file), GOOGLE_APPLICATION_CREDENTIALS")]
    [InlineData(", credentials: /nonexistent/token", "the credentials file '/nonexistent/token' does not exist")]
    [InlineData(", credentials: not-a-key.json", "the credentials file 'not-a-key.json' is not a credential Google.Apis.Auth reads")]
    public async Task Missing_credentials_are_one_line_at_start(string options, string says)
    {
        File.WriteAllText(Path.Combine(_dir, "not-a-key.json"), """{"type": "service_account", "client_email": "x@y"}""");
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
            new Dictionary<string, string>
            {
                ["PUBSUB_EMULATOR_HOST"] = "", ["GOOGLE_OAUTH_ACCESS_TOKEN"] = "", ["GOOGLE_APPLICATION_CREDENTIALS"] = "",
                // No gcloud ADC file (it lives under HOME) and no metadata server (nothing listens on that loopback port).
                ["HOME"] = _dir, ["CLOUDSDK_CONFIG"] = Path.Combine(_dir, "gcloud"), ["GCE_METADATA_HOST"] = $"127.0.0.1:{LoopbackPort.Free()}",
            });
        var (code, _, err) = await SluiceProcess.ExitAsync(run, TimeSpan.FromSeconds(60));
        code.Should().Be(2, err);
        err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain("source users (pubsub): " + says);
        err.Should().NotContain("   at ");
    }
}
