using System.Text;
using Confluent.Kafka;

namespace Sluice.TestSupport;

/// <summary>
/// A mock Kafka cluster for one test, with what tests do to it: produce, read a whole topic, read a group's commits.
/// The mock broker keeps only ~5 MB per partition (older messages are dropped): keep a test's partitions below that.
/// </summary>
public sealed class KafkaTestKit : IDisposable
{
    public KafkaMockCluster Cluster { get; } = new();
    public string Bootstrap => Cluster.BootstrapServers;

    public void Dispose() => Cluster.Dispose();

    /// <summary>Produces (partition, key, value, headers) messages and waits for all of them.</summary>
    public void Produce(string topic, IEnumerable<(int Partition, string? Key, byte[] Value, (string Name, string Value)[] Headers)> messages)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = Bootstrap, LingerMs = 5 }).Build();
        foreach (var (partition, key, value, headers) in messages)
        {
            var h = new Headers();
            foreach (var (n, v) in headers) h.Add(n, Encoding.UTF8.GetBytes(v));
            while (true)
            {
                try
                {
                    producer.Produce(new TopicPartition(topic, partition), new Message<byte[]?, byte[]?>
                    {
                        Key = key is null ? null : Encoding.UTF8.GetBytes(key), Value = value, Headers = h,
                    });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException($"producing to {topic} did not finish");
    }

    /// <summary>Every message of <paramref name="topic"/> (reads until <paramref name="expected"/> arrived or 30 s passed).</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap, GroupId = "test-reader-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        var all = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (all.Count < expected && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r) all.Add(r);
        // A little longer: more than expected must show up too.
        var settle = DateTime.UtcNow.AddMilliseconds(500);
        while (DateTime.UtcNow < settle)
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) all.Add(r);
        consumer.Close();
        return all;
    }

    /// <summary>Waits until <paramref name="topic"/> holds at least <paramref name="count"/> messages (reading it as it fills).</summary>
    public void WaitFor(string topic, int count, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap, GroupId = "test-waiter-" + Guid.NewGuid().ToString("N"), AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(topic);
        int seen = 0;
        var deadline = DateTime.UtcNow + timeout;
        while (seen < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{topic} holds {seen} messages after {timeout}, expected {count}");
            if (consumer.Consume(TimeSpan.FromMilliseconds(20)) is { IsPartitionEOF: false }) seen++;
        }
        consumer.Close();
    }

    /// <summary>The offsets group <paramref name="group"/> committed for each partition of <paramref name="topic"/> (-1001 = none).</summary>
    public long[] Committed(string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = group }).Build();
        var offsets = consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10));
        return offsets.OrderBy(o => o.Partition.Value).Select(o => o.Offset.Value).ToArray();
    }

    public static byte[] User(long id, string name = "John Doe") =>
        Encoding.UTF8.GetBytes($$$"""{"id": {{{id}}}, "name": "{{{name}}} {{{id}}}", "updated_at": 1700000000000000, "contact_info": {"phone_number": "555", "email_address": "u{{{id}}}@example.com"}}""");

    public static byte[] Transaction(long id) =>
        Encoding.UTF8.GetBytes($$"""{"id": {{id}}, "submitted": 1700000000000000, "amount": {{id * 10}}}""");

    /// <summary>The seed's users/transactions topic with sinks and a dead-letter topic, pointed at <paramref name="bootstrap"/>.</summary>
    public static string Definitions(string bootstrap, string topic = "users") => $$"""
        features:
          User:
            max_staleness: 30d
            user_id: {type: int64, primary: true}
            full_name: string
            email_address: string?
            updated_at: timestamp?
          Transaction:
            id: {type: int64, primary: true}
            amount: int64
            submitted: timestamp
        messages:
          ContactInfo: {phone_number: string, email_address: string?}
          UserMessage: {id: int64, name: string, updated_at: int64, contact_info: ContactInfo}
          TransactionMessage: {id: int64, submitted: int64, amount: int64}
        sources:
          user_updates:
            kind: kafka
            bootstrap_servers: {{bootstrap}}
            topic: {{topic}}
            dead_letter_queue_topic: {{topic}}-dlq
            additional_kafka_args: {session.timeout.ms: "1000", heartbeat.interval.ms: "333"}
          users_out: {kind: kafka, bootstrap_servers: {{bootstrap}}, topic: {{topic}}-json}
          transactions_out: {kind: kafka, bootstrap_servers: {{bootstrap}}, topic: {{topic}}-ipc}
        resolvers:
          get_users_stream:
            source: user_updates
            message_type: UserMessage
            output_features:
              User.user_id: _.id
              User.full_name: _.name
              User.email_address: _.contact_info.email_address
              User.updated_at: F.from_unix_seconds(_.updated_at / 1_000_000)
            message_header_filters: [[X-Chalk-MessageType, User]]
            sink: {send_to: users_out, output_features: [User.user_id, User.full_name, User.updated_at], format: json}
          get_transactions_stream:
            source: user_updates
            message_type: TransactionMessage
            output_features:
              Transaction.id: _.id
              Transaction.amount: _.amount
              Transaction.submitted: F.from_unix_seconds(_.submitted / 1_000_000)
            message_header_filters: [[X-Chalk-MessageType, Transaction]]
            sink: {send_to: transactions_out, output_features: [Transaction.id, Transaction.amount], format: ipc_stream}
        """;
}
