using FluentAssertions;
using Sluice.Pipeline.Definitions;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Api;

[FeatureClass]
public sealed class Item
{
    [PrimaryKey] public long Id { get; init; }
    public string Name { get; init; } = "";
    public double Price { get; init; }
    public string Description { get; init; } = "";
    public string ImageUrl { get; init; } = "";
    public List<double>? Embedding { get; init; }
    [Derived("_.price * 100")] public double? PriceCents { get; init; }
}

public sealed record ItemMessage(long Id, string Name, double Price, string Description, string ImageUrl);

/// <summary>The seed's items -> embeddings example: a C# online resolver computes a feature that the sink lists.</summary>
public class OnlineResolverUnitTests
{
    internal static int Calls;

    internal static readonly OnlineResolver<Item> Model = OnlineResolver.For<Item>("run_item_embedding_model", async (items, ct) =>
    {
        Interlocked.Increment(ref Calls);
        await Task.Yield();
        return items.Select(i => new Item { Embedding = [i.Price, i.Description.Length, i.ImageUrl.Length] }).ToList();
    }, [i => i.Embedding]);

    internal static StreamResolver<ItemMessage, Item> ProcessNewItems(bool sinkEmbedding) =>
        StreamResolver.For<ItemMessage>("process_new_items", Kafka.Topic("new_items", "localhost:9092"))
            .Output(m => new Item { Id = m.Id, Name = m.Name, Price = m.Price, Description = m.Description, ImageUrl = m.ImageUrl })
            .Sink(Kafka.Topic("item_embeddings", "localhost:9092"), sinkEmbedding ? f => new { f.Id, f.Embedding, f.PriceCents } : f => new { f.Id }, SinkFormat.Json);

    [Fact]
    public async Task An_online_resolver_runs_when_the_sink_lists_its_output_after_deduplication()
    {
        var plans = StreamResolver.Compile(TestDefinitions.Connectors, ProcessNewItems(sinkEmbedding: true), Model);
        var plan = plans.Resolvers.Single();
        plan.Online.Should().ContainSingle().Which.Name.Should().Be("run_item_embedding_model");
        plan.Sink!.Fqns.Should().Equal("Item.id", "Item.embedding", "Item.price_cents");

        int before = Calls;
        var result = await ResolverTest.RunAsync(plan,
        [
            TestMessage.Json(new ItemMessage(1, "lamp", 12.5, "a lamp", "http://x/1.png")),
            TestMessage.Json(new ItemMessage(2, "desk", 99.0, "a big desk", "http://x/2.png")),
        ]);
        Calls.Should().Be(before + 1, "one call per batch, not per row");
        result.Messages.Select(m => m.Outcome).Should().Equal("written", "written");
        result.Messages[0].Features!["item.embedding"].Should().BeEquivalentTo(new List<object?> { 12.5, 6.0, 14.0 });
        result.Messages[1].Features!["item.price_cents"].Should().Be(9900.0);
        result.Features.Schema.FieldsList.Select(f => f.Name).Should().Contain("item.embedding").And.EndWith("__ts__");
    }

    [Fact]
    public void Without_a_sink_that_lists_them_online_outputs_are_not_computed_and_an_unproduced_sink_feature_is_an_error()
    {
        StreamResolver.Compile(TestDefinitions.Connectors, ProcessNewItems(sinkEmbedding: false), Model).Resolvers.Single().Online.Should().BeNull();
        var act = () => StreamResolver.Compile(TestDefinitions.Connectors, ProcessNewItems(sinkEmbedding: true));
        act.Should().Throw<DefinitionException>().Which.Errors.Should().Contain(e => e.Code == DefinitionErrorCodes.SinkFeatureNotProduced && e.Message.Contains("Item.embedding"));
    }
}
