using FluentAssertions;
using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Sluice.Clients;
using Sluice.TestSupport;

namespace Sluice.Hosting.Tests;

/// <summary>
/// A sink goes to its target's kind whatever its resolver reads: Kafka (librdkafka's mock cluster) into Pub/Sub (the
/// loopback server) and Kinesis (kinesalite), Kinesis into Kafka, Pub/Sub into Kafka, all in one pipeline. Before the
/// runtime was one, each source's runner decided which sink kinds existed and wrote the others to files.
/// </summary>
[Collection("PUBSUB_EMULATOR_HOST")] // the environment variable is process-wide
public sealed class CrossKindSinkIntegrationTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-cross-").FullName;
    private readonly KafkaTestKit _kafka = new();
    private Kinesalite _kinesalite = null!;
    private LoopbackPubSub _pubsub = null!;

    public async Task InitializeAsync()
    {
        _kinesalite = await Kinesalite.StartAsync();
        _pubsub = await LoopbackPubSub.StartAsync();
        Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", _pubsub.Host);
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", null);
        await _pubsub.DisposeAsync();
        await _kinesalite.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose() => _kafka.Dispose();

    private static byte[] User(int id) => System.Text.Encoding.UTF8.GetBytes($$"""{"id": {{id}}, "name": "user {{id}}"}""");

    [Fact]
    public async Task Every_resolver_sinks_to_the_kind_of_its_target_not_of_its_source()
    {
        _kafka.Cluster.CreateTopic("in", 1);
        _kafka.Cluster.CreateTopic("out", 1);
        _kafka.Produce("in", Enumerable.Range(1, 20).Select(i => (0, (string?)null, User(i), Array.Empty<(string, string)>())));
        using (var kinesis = new KinesisClient(new Uri(_kinesalite.Endpoint), "us-east-1", "k", "s"))
        {
            await kinesis.CreateStreamAsync("in", 1, CancellationToken.None);
            await kinesis.CreateStreamAsync("out", 1, CancellationToken.None);
            await kinesis.PutRecordsAsync("in", Enumerable.Range(101, 10).Select(i => (User(i), $"k{i}")).ToList(), CancellationToken.None);
        }
        _pubsub.Data.CreateTopic("projects/p/topics/in");
        _pubsub.Data.CreateSubscription("projects/p/subscriptions/in-sub", "projects/p/topics/in");
        _pubsub.Data.CreateTopic("projects/p/topics/out");
        _pubsub.Data.Publish("projects/p/topics/in", Enumerable.Range(201, 5).Select(i => new PubsubMessage { Data = ByteString.CopyFrom(User(i)) }));

        string kinesisAt = $"endpoint_url: \"{_kinesalite.Endpoint}\", aws_access_key_id: k, aws_secret_access_key: s";
        var definitions = TestDefinitions.Compile($$"""
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              M: {id: int64, name: string}
            sources:
              kafka_in: {kind: kafka, bootstrap_servers: "{{_kafka.Bootstrap}}", topic: in}
              kinesis_in: {kind: kinesis, stream_name: in, {{kinesisAt}}}
              pubsub_in: {kind: pubsub, project_id: p, subscription_id: in-sub}
              kafka_out: {kind: kafka, bootstrap_servers: "{{_kafka.Bootstrap}}", topic: out}
              kinesis_out: {kind: kinesis, stream_name: out, {{kinesisAt}}}
              pubsub_out: {kind: pubsub, project_id: p, topic_id: out}
            resolvers:
              kafka_to_pubsub:
                source: kafka_in
                message_type: M
                output_features: {User.user_id: _.id, User.full_name: _.name}
                sink: {send_to: pubsub_out, output_features: [User.user_id], format: json}
              kafka_to_kinesis:
                source: kafka_in
                message_type: M
                output_features: {User.user_id: _.id, User.full_name: _.name}
                sink: {send_to: kinesis_out, output_features: [User.user_id], format: json}
              kinesis_to_kafka:
                source: kinesis_in
                message_type: M
                output_features: {User.user_id: _.id, User.full_name: _.name}
                sink: {send_to: kafka_out, output_features: [User.user_id], format: json}
              pubsub_to_kafka:
                source: pubsub_in
                message_type: M
                output_features: {User.user_id: _.id, User.full_name: _.name}
                sink: {send_to: kafka_out, output_features: [User.user_id], format: json}
            """);

        var counts = await TestRuns.RunAsync(definitions, TestRuns.In(_dir) with { IdleExit = TimeSpan.FromSeconds(2) }).WaitAsync(TimeSpan.FromMinutes(2));

        counts["kafka_to_pubsub"].Written.Should().Be(20);
        counts["kafka_to_kinesis"].Written.Should().Be(20);
        counts["kinesis_to_kafka"].Written.Should().Be(10);
        counts["pubsub_to_kafka"].Written.Should().Be(5);
        _pubsub.Data.Published["projects/p/topics/out"].Select(m => m.Data.ToStringUtf8()).Should().HaveCount(20).And.Contain("""{"user.user_id":7}""");
        using (var kinesis = new KinesisClient(new Uri(_kinesalite.Endpoint), "us-east-1", "k", "s"))
        {
            var shard = (await kinesis.ListShardsAsync("out", CancellationToken.None)).Single();
            var iterator = await kinesis.GetShardIteratorAsync("out", shard.ShardId, "TRIM_HORIZON", null, CancellationToken.None);
            var (records, _, _) = await kinesis.GetRecordsAsync(iterator, 1000, CancellationToken.None);
            records.Select(r => System.Text.Encoding.UTF8.GetString(r.Data)).Should().HaveCount(20).And.Contain("""{"user.user_id":13}""");
        }
        _kafka.ReadAll("out", 15).Select(m => System.Text.Encoding.UTF8.GetString(m.Message.Value!)).Should().BeEquivalentTo(
            Enumerable.Range(101, 10).Concat(Enumerable.Range(201, 5)).Select(i => $$"""{"user.user_id":{{i}}}"""));
        Directory.Exists(Path.Combine(_dir, "sinks")).Should().BeFalse("no sink fell back to a file");
    }
}
