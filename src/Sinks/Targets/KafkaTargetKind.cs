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
    private KafkaProducer? _producer;

    public bool CarriesHeaders => true;

    /// <summary>Every record is in the producer's queue when <see cref="SendAsync"/> returns, and one idempotent producer keeps their order.</summary>
    public int SendsInFlight => 4;

    public Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken)
    {
        // librdkafka is loaded by the producer's first call into it.
        _producer ??= new KafkaProducer(settings.Over(new ProducerConfig { EnableIdempotence = true, Acks = Acks.All, LingerMs = 5 }, clientName), topic, new KafkaLog(clientName));
        return _producer.ProduceAsync(records);
    }

    public ValueTask DisposeAsync()
    {
        _producer?.Dispose();
        return ValueTask.CompletedTask;
    }
}
