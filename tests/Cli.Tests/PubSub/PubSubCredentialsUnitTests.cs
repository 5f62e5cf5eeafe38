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
        var line = await SluiceProcess.RunStopsAtStartAsync(_dir, $"{{kind: pubsub, project_id: p, subscription_id: s{options}}}",
            new Dictionary<string, string>
            {
                ["PUBSUB_EMULATOR_HOST"] = "", ["GOOGLE_OAUTH_ACCESS_TOKEN"] = "", ["GOOGLE_APPLICATION_CREDENTIALS"] = "",
                // No gcloud ADC file (it lives under HOME) and no metadata server (nothing listens on that loopback port).
                ["HOME"] = _dir, ["CLOUDSDK_CONFIG"] = Path.Combine(_dir, "gcloud"), ["GCE_METADATA_HOST"] = $"127.0.0.1:{LoopbackPort.Free()}",
            });
        line.Should().Contain("source users (pubsub): " + says);
    }
}
