using System.Text.Json;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.DynamoDb;

/// <summary><c>replay --dedup dynamodb://...</c> against dynalite (a DynamoDB-compatible server run with node on loopback).</summary>
public sealed class DedupDynamoIntegrationTests : IAsyncLifetime
{
    private Dynalite _dynalite = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-cli-dynamo-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public async Task InitializeAsync() => _dynalite = await Dynalite.StartAsync();

    public async Task DisposeAsync()
    {
        await _dynalite.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private (int Code, string Out, string Err) Replay(string dedup) => Cli.Run("replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"),
        "--online", "sqlite:" + Path.Combine(_dir, "online.db"), "--offline", Path.Combine(_dir, "offline"), "--sink-dir", Path.Combine(_dir, "sinks"),
        "--dead-letter", Path.Combine(_dir, "dead.jsonl"), "--dedup", dedup, "--json");

    [Fact]
    public void Dedup_on_dynamodb_drops_the_duplicate_and_a_second_replay_is_a_redelivery()
    {
        for (int run = 0; run < 2; run++)
        {
            var (code, output, err) = Replay(_dynalite.Uri("sluice_dedup"));
            code.Should().Be(0, err);
            var tx = JsonDocument.Parse(output).RootElement.GetProperty("resolvers").GetProperty("get_transactions_stream");
            (tx.GetProperty("written").GetInt64(), tx.GetProperty("duplicate").GetInt64())
                .Should().Be((1, 1), $"run {run}: the same positions again are redeliveries, the duplicate stays a duplicate");
        }
        var bad = Replay("dynamo://nowhere/t");
        bad.Code.Should().Be(2);
        bad.Err.Should().Contain("--dedup").And.Contain("dynamodb://");
    }
}
