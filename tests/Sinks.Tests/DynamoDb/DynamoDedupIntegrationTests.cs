using FluentAssertions;
using Sluice.Sinks.Tests.Dedup;
using Sluice.TestSupport;

namespace Sluice.Sinks.Tests.DynamoDb;

/// <summary>The DynamoDB dedup store against dynalite (a DynamoDB-compatible server, started with node on loopback).</summary>
public sealed class DynamoDedupIntegrationTests : IAsyncLifetime
{
    private Dynalite _dynalite = null!;

    public async Task InitializeAsync() => _dynalite = await Dynalite.StartAsync();

    public async Task DisposeAsync() => await _dynalite.DisposeAsync();

    private const long Day = 86_400_000_000;

    [Fact]
    public async Task Claims_keep_new_keys_and_redeliveries_and_drop_duplicates_across_and_within_batches()
    {
        await using var dedup = await DynamoDedupStore.OpenAsync(_dynalite.Uri("sluice_dedup"));
        (await dedup.ClaimAsync([new("r\u001fa", "t/0/1", 0, Day), new("r\u001fb", "t/0/2", 0, Day), new("r\u001fa", "t/0/3", 0, Day), new("r\u001fa", "t/0/1", 0, Day)]))
            .Should().Equal(true, true, false, true);
        (await dedup.ClaimAsync([new("r\u001fa", "t/0/1", 0, Day), new("r\u001fb", "t/9/9", 0, Day), new("other\u001fa", "t/0/5", 0, Day)]))
            .Should().Equal(true, false, true);
    }

    [Fact]
    public async Task The_window_is_measured_in_message_time_as_every_dedup_store_measures_it()
    {
        await using var dedup = await DynamoDedupStore.OpenAsync(_dynalite.Uri("contract"));
        await DedupContract.DuplicatesDropRedeliveriesPassAndClaimsExpireAfterTheWindow(dedup, "a");
        await DedupContract.AnOlderStragglerWithinTheWindowIsADuplicateAndAnOlderOneOutsideNeverTakesTheKey(dedup, "b");
    }

    [Fact]
    public async Task The_table_is_created_once_and_shared_by_stores_that_open_it()
    {
        await using var a = await DynamoDedupStore.OpenAsync(_dynalite.Uri("shared"));
        await using var b = await DynamoDedupStore.OpenAsync(_dynalite.Uri("shared"));
        (await a.ClaimAsync([new("x", "t/0/1", 0, Day)])).Should().Equal(true);
        (await b.ClaimAsync([new("x", "t/0/2", 0, Day), new("x", "t/0/1", 0, Day)])).Should().Equal(false, true);
        var bad = () => DynamoDedupStore.OpenAsync($"dynamodb://127.0.0.1:{_dynalite.Port}/");
        await bad.Should().ThrowAsync<FormatException>();
    }

    [Fact]
    public async Task For_random_streams_the_online_state_with_dynamodb_dedup_matches_the_reference_model()
    {
        var dir = Directory.CreateTempSubdirectory("sluice-dynamo-model-").FullName;
        try
        {
            await ReferenceModel.CheckAsync(async () => await SqliteOnlineStore.OpenAsync(Path.Combine(dir, "online.db")),
                async () => await DynamoDedupStore.OpenAsync(_dynalite.Uri("model")), dir, iterations: 15);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
