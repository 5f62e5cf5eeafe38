using System.Text;
using Confluent.Kafka;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.Kafka;

/// <summary>The mock broker speaks real Kafka: the real Confluent client produces to it and consumes from it over TCP.</summary>
public sealed class KafkaMockClusterIntegrationTests
{
    [Fact]
    public void Produced_messages_are_consumed_back_with_keys_and_headers()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("t", partitions: 2);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (int i = 0; i < 10; i++)
                producer.Produce(new TopicPartition("t", i % 2), new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes($"k{i}"), Value = Encoding.UTF8.GetBytes($"v{i}"),
                    Headers = new Headers { { "type", Encoding.UTF8.GetBytes("user") } },
                });
            producer.Flush(TimeSpan.FromSeconds(10)).Should().Be(0);
        }
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = "g", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("t");
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (values.Count < 10 && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r)
            {
                r.Message.Headers.GetLastBytes("type").Should().Equal(Encoding.UTF8.GetBytes("user"));
                Encoding.UTF8.GetString(r.Message.Key).Should().Be("k" + Encoding.UTF8.GetString(r.Message.Value)[1..]);
                values.Add(Encoding.UTF8.GetString(r.Message.Value));
            }
        consumer.Close();
        values.Should().BeEquivalentTo(Enumerable.Range(0, 10).Select(i => $"v{i}"));
    }
}
