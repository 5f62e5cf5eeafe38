using FluentAssertions;

namespace Sluice.Cli.Tests;

/// <summary><c>sluice record</c>'s options that do not apply to the chosen source kind are refused, never ignored (no server needed: it fails first).</summary>
public sealed class RecordCommandUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-record-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--from-beginning does not go with a pubsub source", "--pubsub-project", "p", "--pubsub-subscription", "s", "--from-beginning")]
    [InlineData("--region does not go with a kafka source", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--region", "eu-west-1")]
    [InlineData("--topic does not go with a kinesis source", "--kinesis-stream", "s", "--topic", "t")]
    public void An_option_of_another_kind_is_refused_naming_it(string says, params string[] args)
    {
        var (code, _, err) = Cli.Run(["record", .. args, "--out", Path.Combine(_dir, "out.arrows")]);
        code.Should().Be(2, err);
        err.Should().Contain(says);
        File.Exists(Path.Combine(_dir, "out.arrows")).Should().BeFalse("nothing was recorded");
    }
}
