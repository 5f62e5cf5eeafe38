using System.Text;
using Confluent.Kafka;
using FluentAssertions;
using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using Sluice.TestSupport;

namespace Sluice.Sinks.Tests.Targets;

/// <summary>
/// The sink and dead-letter producer (librdkafka's API, no Confluent producer) against the mock broker, read back with
/// the Confluent consumer: what it sends, in what order, and how a failure surfaces.
/// </summary>
public sealed class KafkaProducerIntegrationTests : IDisposable
{
    private readonly KafkaTestKit _kafka = new();

    public void Dispose() => _kafka.Dispose();

    private KafkaProducer Producer(string topic, int? messageTimeoutMs = null) =>
        new(new ProducerConfig { BootstrapServers = _kafka.Bootstrap, EnableIdempotence = true, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = messageTimeoutMs }, topic, new KafkaLog("test"));

    [Fact]
    public async Task Records_arrive_in_order_with_their_keys_values_and_headers_and_the_task_completes_once_acknowledged()
    {
        _kafka.Cluster.CreateTopic("out", partitions: 1);
        KeyValuePair<string, byte[]>[] shared = [new("sluice-resolver", "users"u8.ToArray())];
        // Many headers (more than the producer keeps on its stack), an empty value and no key, an empty key, no value.
        var many = Enumerable.Range(0, 20).Select(i => new KeyValuePair<string, byte[]>($"h{i}", Encoding.UTF8.GetBytes($"v{i}"))).ToArray();
        var records = Enumerable.Range(0, 3000).Select(i => new OutRecord(Encoding.UTF8.GetBytes($"k{i}"), Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), shared)).ToList();
        records.Add(new OutRecord(null, [], many));
        records.Add(new OutRecord([], "x"u8.ToArray(), []));
        records.Add(new OutRecord("last"u8.ToArray(), null, []));

        using (var producer = Producer("out"))
        {
            await producer.ProduceAsync(records.Take(1500).ToList()).WaitAsync(TimeSpan.FromSeconds(30));
            await producer.ProduceAsync(records.Skip(1500).ToList()).WaitAsync(TimeSpan.FromSeconds(30));
        }

        var read = _kafka.ReadAll("out", records.Count);
        read.Should().HaveCount(records.Count);
        for (int i = 0; i < 3000; i++)
        {
            Encoding.UTF8.GetString(read[i].Message.Key!).Should().Be($"k{i}");
            Encoding.UTF8.GetString(read[i].Message.Value!).Should().Be($"{{\"n\":{i}}}");
            read[i].Message.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))).Should().Equal(("sluice-resolver", "users"));
        }
        var withMany = read[3000].Message;
        withMany.Key.Should().BeNull();
        withMany.Value.Should().BeEmpty();
        withMany.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))).Should().Equal(many.Select(h => (h.Key, Encoding.UTF8.GetString(h.Value))));
        read[3001].Message.Key.Should().BeEmpty();
        read[3002].Message.Value.Should().BeNull();
        read[3002].Message.Headers.Should().BeEmpty();
    }

    [Fact]
    public async Task A_record_the_broker_never_acknowledges_fails_the_batch_with_the_topic_and_librdkafkas_reason()
    {
        _kafka.Cluster.CreateTopic("out", partitions: 1);
        _kafka.Cluster.SetBrokerDown();
        using var producer = Producer("out", messageTimeoutMs: 1500);
        var send = producer.ProduceAsync([new OutRecord("k"u8.ToArray(), "v"u8.ToArray(), [])]);
        var failure = await send.Invoking(t => t.WaitAsync(TimeSpan.FromSeconds(30))).Should().ThrowAsync<InvalidOperationException>();
        failure.Which.Message.Should().StartWith("producing to topic 'out' failed: ").And.Contain("timed out");
        failure.Which.InnerException.Should().BeOfType<KafkaException>().Which.Error.Code.Should().Be(ErrorCode.Local_MsgTimedOut);
        _kafka.Cluster.SetBrokerUp();
    }

    [Fact]
    public void A_setting_librdkafka_does_not_know_is_named_in_the_error()
    {
        var config = new ProducerConfig { BootstrapServers = _kafka.Bootstrap };
        config.Set("linger.mss", "5");
        var open = () => new KafkaProducer(config, "out", new KafkaLog("test"));
        open.Should().Throw<ArgumentException>().WithMessage("kafka producer setting linger.mss: *");
    }
}
