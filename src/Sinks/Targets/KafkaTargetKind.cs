using Confluent.Kafka;
using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Sinks;

/// <summary>
/// Writing to <c>kind: kafka</c> sources: sink rows produced to the source's topic (json: one message per row keyed by
/// the primary key; ipc_stream: one message per batch), dead letters to its <c>dead_letter_queue_topic</c> with their
/// original key, payload and headers plus sluice-error, sluice-resolver and sluice-source. One idempotent producer
/// (<c>acks=all</c>) per target, with the source's client settings.
/// </summary>
public sealed class KafkaTargetKind : ITargetKind
{
    /// <inheritdoc/>
    public string Name => "kafka";

    /// <inheritdoc/>
    public void Validate(SourceDef target, SourceDiagnostics report) { }

    /// <inheritdoc/>
    public IBatchTarget OpenSink(SourceDef target, TargetContext context)
    {
        var settings = new KafkaSettings(target);
        return new SinkTarget(new KafkaTopicTransport(settings, settings.Topic, "sink-" + target.Name));
    }

    /// <inheritdoc/>
    public IBatchTarget? OpenDeadLetters(SourceDef source, TargetContext context)
    {
        var settings = new KafkaSettings(source);
        return settings.DeadLetterTopic is { } topic ? new DeadLetterTarget(new KafkaTopicTransport(settings, topic, "dead-letters-" + source.Name)) : null;
    }
}

/// <summary>
/// Produces records to one topic with an idempotent producer (<c>acks=all</c>); <see cref="SendAsync"/> returns once the
/// broker acknowledged every record handed to it.
/// </summary>
internal sealed class KafkaTopicTransport(KafkaSettings settings, string topic, string clientName) : IRecordTransport
{
    private IProducer<byte[]?, byte[]?>? _producer;

    public bool CarriesHeaders => true;

    /// <summary>Every record is in the producer's queue when <see cref="SendAsync"/> returns, and one idempotent producer keeps their order.</summary>
    public int SendsInFlight => 4;

    public Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken)
    {
        if (_producer is null)
        {
            KafkaNative.EnsureLoaded();
            _producer = new ProducerBuilder<byte[]?, byte[]?>(settings.Over(new ProducerConfig { EnableIdempotence = true, Acks = Acks.All, LingerMs = 5, DeliveryReportFields = "status" }, clientName))
                .WithSluiceLog(new KafkaLog(clientName)).Build();
        }
        var producer = _producer;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int pending = 1; // released after the last Produce, so that an early report cannot finish the batch
        Exception? failure = null;
        // One of the pending parts is done: the last one completes the batch, with the first failure if any.
        void Release()
        {
            if (Interlocked.Decrement(ref pending) != 0) return;
            if (failure is null) done.TrySetResult();
            else done.TrySetException(new InvalidOperationException($"producing to topic '{topic}' failed: {failure.Message}", failure));
        }
        // Delivery reports carry only the status (DeliveryReportFields): the key, value and headers are not marshalled back.
        void Report(DeliveryReport<byte[]?, byte[]?> r)
        {
            if (r.Error.IsError) Interlocked.CompareExchange(ref failure, new KafkaException(r.Error), null);
            Release();
        }
        // Sink records share one header list: it is converted once (the producer copies headers as it takes a record).
        IReadOnlyList<KeyValuePair<string, byte[]>>? convertedFrom = null;
        Headers? headers = null;
        foreach (var record in records)
        {
            if (!ReferenceEquals(record.Headers, convertedFrom))
            {
                convertedFrom = record.Headers;
                headers = null;
                if (record.Headers.Count > 0)
                {
                    headers = [];
                    for (int i = 0; i < record.Headers.Count; i++) headers.Add(record.Headers[i].Key, record.Headers[i].Value);
                }
            }
            var message = new Message<byte[]?, byte[]?> { Key = record.Key, Value = record.Value, Headers = headers };
            Interlocked.Increment(ref pending);
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, Report);
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        Release();
        return done.Task;
    }

    public ValueTask DisposeAsync()
    {
        if (_producer is not null)
        {
            _producer.Flush(TimeSpan.FromSeconds(30));
            _producer.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
