using System.Buffers;
using System.Text;
using Confluent.Kafka;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Stores;

namespace Sluice.Sources.Kafka;

/// <summary>
/// One idempotent producer (<c>acks=all</c>) per Kafka source used as a target. <see cref="ProduceAllAsync"/> returns
/// once the broker has acknowledged every message handed to it, which is when the graph may acknowledge the batch.
/// </summary>
internal sealed class KafkaProducers : IDisposable
{
    private readonly Dictionary<string, IProducer<byte[]?, byte[]?>> _producers = new(StringComparer.Ordinal);

    public IProducer<byte[]?, byte[]?> For(KafkaSettings settings, string clientName)
    {
        lock (_producers)
        {
            if (_producers.TryGetValue(settings.Name, out var p)) return p;
            KafkaNative.EnsureLoaded();
            var config = settings.Over(new ProducerConfig { EnableIdempotence = true, Acks = Acks.All, LingerMs = 5 }, clientName);
            return _producers[settings.Name] = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        }
    }

    /// <summary>Produces every message and waits for every delivery report; throws with the first failure.</summary>
    public static Task ProduceAllAsync(IProducer<byte[]?, byte[]?> producer, string topic, IEnumerable<Message<byte[]?, byte[]?>> messages)
    {
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
        void Report(DeliveryReport<byte[]?, byte[]?> r)
        {
            if (r.Error.IsError) Interlocked.CompareExchange(ref failure, new KafkaException(r.Error), null);
            Release();
        }
        foreach (var m in messages)
        {
            Interlocked.Increment(ref pending);
            while (true)
            {
                try
                {
                    producer.Produce(topic, m, Report);
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

    public void Dispose()
    {
        foreach (var p in _producers.Values)
        {
            p.Flush(TimeSpan.FromSeconds(30));
            p.Dispose();
        }
    }
}

/// <summary>
/// A sink whose target is a Kafka source (DESIGN.md section 5): <c>json</c> = one message per row, a JSON object keyed
/// by FQN, keyed by the entity's primary key; <c>ipc_stream</c> = one message per batch holding an Arrow IPC stream
/// (schema + record batch) with FQN columns, without a key (it carries many entities). Targets of other kinds go to
/// <paramref name="other"/> (files in the sink folder), which this disposes.
/// </summary>
public sealed class KafkaSink(CompiledDefinitions definitions, IBatchTarget other) : IBatchTarget
{
    private readonly KafkaProducers _producers = new();

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var sink = plan.Sink!;
        if (!definitions.Sources.TryGetValue(sink.Target, out var target) || target.Kind.Value != "kafka")
            return await other.WriteAsync(plan, batch, cancellationToken);
        var settings = new KafkaSettings(target);
        var producer = _producers.For(settings, plan.Name);
        var (columns, types) = SinkEncoding.Columns(plan, batch);
        if (sink.Format == "json")
        {
            var buffer = new ArrayBufferWriter<byte>();
            var messages = new List<Message<byte[]?, byte[]?>>(columns.Length);
            for (int r = 0; r < columns.Length; r++)
            {
                buffer.ResetWrittenCount();
                SinkEncoding.JsonRow(columns, types, r, buffer);
                messages.Add(new Message<byte[]?, byte[]?> { Key = SinkEncoding.Key(plan, batch, r), Value = buffer.WrittenSpan.ToArray() });
            }
            await KafkaProducers.ProduceAllAsync(producer, settings.Topic, messages);
            return messages.Count;
        }
        await KafkaProducers.ProduceAllAsync(producer, settings.Topic, [new Message<byte[]?, byte[]?> { Value = SinkEncoding.IpcStream(columns) }]);
        return 1;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _producers.Dispose();
        await other.DisposeAsync();
    }
}

/// <summary>
/// The dead-letter topic of a Kafka source (<c>dead_letter_queue_topic</c>): each failed message with its original key,
/// payload and headers plus <c>sluice-error</c>, <c>sluice-resolver</c> and <c>sluice-source</c> (topic/partition/offset).
/// Resolvers whose source has no dead-letter topic go to <paramref name="other"/> (the dead-letter file), which this disposes.
/// </summary>
public sealed class KafkaDeadLetters(IBatchTarget other) : IBatchTarget
{
    private readonly KafkaProducers _producers = new();

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        if (plan.Source.Kind.Value != "kafka" || new KafkaSettings(plan.Source) is not { DeadLetterTopic: { } topic } settings)
            return await other.WriteAsync(plan, batch, cancellationToken);
        var producer = _producers.For(settings, plan.Name + "-dead-letters");
        var m = batch.Messages;
        var messages = FileDeadLetters.FailedMessages(batch).Select(i =>
        {
            var headers = new Headers();
            foreach (var (name, value) in m.HeadersOf(i)) headers.Add(name, value);
            foreach (var (name, value) in FileDeadLetters.DeadLetterHeaders(plan, batch, i)) headers.Add(name, Encoding.UTF8.GetBytes(value));
            return new Message<byte[]?, byte[]?>
            {
                Key = m.Key.IsNull(i) ? null : m.Key.GetBytes(i).ToArray(),
                Value = m.Value.IsNull(i) ? null : m.Value.GetBytes(i).ToArray(),
                Headers = headers,
            };
        }).ToList();
        await KafkaProducers.ProduceAllAsync(producer, topic, messages);
        return messages.Count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _producers.Dispose();
        await other.DisposeAsync();
    }
}
