using FluentAssertions;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Hosting.Tests;

[FeatureClass(MaxStaleness = "7d")]
public sealed class Item
{
    [PrimaryKey] public long Id { get; init; }
    public string Name { get; init; } = "";
    public double Price { get; init; }
    public string Description { get; init; } = "";
    public List<double>? Embedding { get; init; }
    public long? EmbeddingSize { get; init; }
}

public sealed record ItemMessage(long Id, string Name, double Price, string Description, string ImageUrl);

/// <summary>
/// The seed's items -> embeddings chain composed in C# and run in one process: a recording feeds process_new_items,
/// whose JSON sink (with a C# online resolver's embedding) feeds measure_embeddings in process, no broker involved.
/// </summary>
public sealed class StreamPipelineUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_sink_feeds_the_next_resolver_in_process_with_online_features()
    {
        var recording = Path.Combine(_dir, "new_items.jsonl");
        File.WriteAllLines(recording, Enumerable.Range(1, 50).Select(i =>
            $$"""{"topic":"new_items","partition":0,"offset":{{i}},"ts":1700000000000,"key":"{{i}}","payload":"{\"id\": {{i}}, \"name\": \"item {{i}}\", \"price\": {{i}}.5, \"description\": \"{{new string('d', i)}}\", \"image_url\": \"u\"}"}"""));
        var embeddings = Kafka.Topic("item_embeddings", "localhost:1"); // never contacted: the chain runs in process
        var process = StreamResolver.For<ItemMessage>("process_new_items", Recordings.File(recording, name: "new_items"))
            .Output(m => new Item { Id = m.Id, Name = m.Name, Price = m.Price, Description = m.Description })
            .Sink(embeddings, f => new { f.Id, f.Embedding }, SinkFormat.Json);
        var model = OnlineResolver.For<Item>("run_item_embedding_model",
            (items, ct) => Task.FromResult<IReadOnlyList<Item>>(items.Select(i => new Item { Embedding = [i.Price, i.Description.Length] }).ToList()),
            [i => i.Embedding]);
        var measure = StreamResolver.For<string>("measure_embeddings", embeddings)
            .Output(m => new Item
            {
                Id = F.Cast<long>(F.JsonValue(m, "$['item.id']")),
                EmbeddingSize = F.ArrayCount(F.JsonExtractArray(m, "$['item.embedding']")),
            });

        await using var online = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        var pipeline = StreamPipeline.Build([process, model, measure], new PipelineOptions
        {
            Online = online,
            OfflineDirectory = Path.Combine(_dir, "offline"),
            SinkDirectory = Path.Combine(_dir, "sinks"),
            DeadLetterPath = Path.Combine(_dir, "dead.jsonl"),
        });
        var counts = (await pipeline.RunAsync().WaitAsync(TimeSpan.FromMinutes(2))).Resolvers;

        counts["process_new_items"].Written.Should().Be(50);
        counts["measure_embeddings"].Written.Should().Be(50, "every sink row reached the second resolver in process");
        var plans = StreamResolver.Compile(TestDefinitions.Connectors, process, model, measure);
        var json = await online.GetAsync(plans.Classes.Single(), "7");
        var values = System.Text.Json.JsonDocument.Parse(json!).RootElement;
        values.GetProperty("item.embedding_size").GetInt64().Should().Be(2);
        values.GetProperty("item.name").GetString().Should().Be("item 7");
        values.GetProperty("item.embedding").EnumerateArray().Select(e => e.GetDouble()).Should().Equal(7.5, 7.0);
        File.Exists(Path.Combine(_dir, "sinks", "item_embeddings.jsonl")).Should().BeFalse("nothing went out of the process");
    }
}
