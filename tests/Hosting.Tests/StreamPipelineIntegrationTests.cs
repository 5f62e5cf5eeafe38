using FluentAssertions;
using Sluice.Clients;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Hosting.Tests;

/// <summary>StreamPipeline over live sources: a Kafka topic (librdkafka's mock cluster) and a Kinesis stream (kinesalite).</summary>
public sealed class StreamPipelineIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pipeline-live-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public sealed record UserMessage(long Id, string Name);

    [FeatureClass]
    public sealed class Person
    {
        [PrimaryKey] public long PersonId { get; init; }
        public string Name { get; init; } = "";
    }

    private PipelineOptions Options(SqliteOnlineStore online) => new()
    {
        Online = online,
        OfflineDirectory = Path.Combine(_dir, "offline"),
        SinkDirectory = Path.Combine(_dir, "sinks"),
        DeadLetterPath = Path.Combine(_dir, "dead.jsonl"),
        IdleExit = TimeSpan.FromSeconds(1.5),
    };

    [Fact]
    public async Task Kafka_and_Kinesis_resolvers_run_together_until_idle()
    {
        using var kafka = new KafkaTestKit();
        kafka.Cluster.CreateTopic("people", 2);
        kafka.Produce("people", Enumerable.Range(1, 40).Select(i =>
            (i % 2, (string?)$"k{i}", System.Text.Encoding.UTF8.GetBytes($$"""{"id": {{i}}, "name": "kafka {{i}}"}"""), Array.Empty<(string, string)>())));
        await using var kinesalite = await Kinesalite.StartAsync();
        using (var client = new KinesisClient(new Uri(kinesalite.Endpoint), "us-east-1", "k", "s"))
        {
            await client.CreateStreamAsync("people", 2, CancellationToken.None);
            await client.PutRecordsAsync("people", Enumerable.Range(101, 40).Select(i =>
                (System.Text.Encoding.UTF8.GetBytes($$"""{"id": {{i}}, "name": "kinesis {{i}}"}"""), $"k{i}")).ToList(), CancellationToken.None);
        }
        var fromKafka = StreamResolver.For<UserMessage>("people_from_kafka", Kafka.Topic("people", kafka.Bootstrap))
            .Output(m => new Person { PersonId = m.Id, Name = m.Name });
        var fromKinesis = StreamResolver.For<UserMessage>("people_from_kinesis",
                Kinesis.Stream("people", endpointUrl: kinesalite.Endpoint, name: "people_stream"))
            .Output(m => new Person { PersonId = m.Id, Name = m.Name });

        await using var online = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        var counts = (await StreamPipeline.Build([fromKafka, fromKinesis], Options(online)).RunAsync().WaitAsync(TimeSpan.FromMinutes(2))).Resolvers;
        counts["people_from_kafka"].Written.Should().Be(40);
        counts["people_from_kinesis"].Written.Should().Be(40);
        var cls = StreamResolver.Compile(TestDefinitions.Connectors, fromKafka).Classes.Single();
        (await online.GetAsync(cls, "7")).Should().Contain("kafka 7");
        (await online.GetAsync(cls, "107")).Should().Contain("kinesis 107");
    }
}
