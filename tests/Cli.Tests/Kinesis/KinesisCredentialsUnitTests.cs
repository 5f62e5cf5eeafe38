using FluentAssertions;

namespace Sluice.Cli.Tests.Kinesis;

/// <summary>
/// A Kinesis source on AWS (no loopback endpoint) with no credentials anywhere the standard chain looks: the run stops
/// at start with one line saying where it looked, exit 2, before anything is read. A separate process whose environment
/// has no AWS_* keys, no profile files and instance metadata disabled.
/// </summary>
public sealed class KinesisCredentialsUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-kinesis-creds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task No_credentials_anywhere_is_one_line_at_start()
    {
        var nowhere = Path.Combine(_dir, "nowhere");
        var line = await SluiceProcess.RunStopsAtStartAsync(_dir, "{kind: kinesis, stream_name: users, region_name: eu-west-1}",
            new Dictionary<string, string>
            {
                ["AWS_ACCESS_KEY_ID"] = "", ["AWS_SECRET_ACCESS_KEY"] = "", ["AWS_SESSION_TOKEN"] = "", ["AWS_PROFILE"] = "",
                ["AWS_WEB_IDENTITY_TOKEN_FILE"] = "", ["AWS_ROLE_ARN"] = "", ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "",
                ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "", ["AWS_EC2_METADATA_DISABLED"] = "true",
                ["AWS_SHARED_CREDENTIALS_FILE"] = nowhere, ["AWS_CONFIG_FILE"] = nowhere, ["HOME"] = _dir,
            });
        line.Should().Contain("source users (kinesis): no AWS credentials found");
    }
}
