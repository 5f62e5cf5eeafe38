using System.Diagnostics;
using System.Runtime.CompilerServices;
using Confluent.Kafka;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources;

/// <summary>
/// <c>kind: kafka</c>: each resolver reads the topic in a consumer group of its own (<c>group_id_prefix</c> + its name),
/// so that several resolvers read one topic independently (<see cref="KafkaSource"/>). Its keys are
/// <see cref="KafkaSettings.Options"/>.
/// </summary>
public sealed class KafkaSourceKind(KafkaSourceOptions? options = null) : ISourceKind
{
    private readonly KafkaSourceOptions _options = options ?? new KafkaSourceOptions();

    /// <inheritdoc/>
    public string Name => "kafka";
    /// <inheritdoc/>
    public IReadOnlyList<SourceOption> Options => KafkaSettings.Options;
    /// <inheritdoc/>
    public bool Live => true;
    /// <inheritdoc/>
    public bool ReaderPerResolver => true;

    /// <inheritdoc/>
    public void Validate(SourceDef source, SourceDiagnostics report) { }

    /// <inheritdoc/>
    public IMessageSource Open(SourceDef source, IReadOnlyList<ResolverPlan> resolvers, SourceContext context) =>
        new KafkaSource(resolvers.Single(), _options, context);

    /// <summary>
    /// Reads the topic in a throwaway consumer group that commits nothing, so recording never moves a resolver's
    /// offsets; with the source's own client settings (security included). Without an idle limit it reads until stopped
    /// or the limit.
    /// </summary>
    public async IAsyncEnumerable<MessageBatch> RecordAsync(SourceDef source, RecordOptions options, [EnumeratorCancellation] CancellationToken stop)
    {
        KafkaNative.EnsureLoaded();
        var settings = new KafkaSettings(source);
        var config = settings.Over(new ConsumerConfig
        {
            GroupId = "sluice-record-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = options.FromBeginning ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
        }.WithPrefetch(), "record"); // a recording from the beginning is a backlog read
        // Idleness counts from the assignment: joining the group is not idle (a slow join recorded nothing), and neither
        // is waiting for brokers that went down (a recording that stopped there would look like the whole topic).
        bool assigned = false;
        var brokers = new BrokerWatch(settings.Topic);
        long count = 0, lastMessage = Stopwatch.GetTimestamp();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .WithSluiceLog(new KafkaLog("record") { OnTransportError = brokers.Saw })
            .SetPartitionsAssignedHandler((_, _) =>
            {
                assigned = true;
                lastMessage = Stopwatch.GetTimestamp();
            })
            .Build();
        consumer.Subscribe(settings.Topic);
        var builder = new MessageBatch.Builder();
        while (!stop.IsCancellationRequested && (options.MaxMessages is not { } max || count < max))
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is { IsPartitionEOF: false, Message: { } m })
            {
                var headers = m.Headers?.Select(h => new KeyValuePair<string, byte[]>(h.Key, h.GetValueBytes() ?? [])).ToArray();
                long ts = m.Timestamp.Type == TimestampType.NotAvailable ? 0 : m.Timestamp.UnixTimestampMs * 1000;
                builder.Append(settings.Topic, r.Partition.Value, r.Offset.Value, ts, m.Key, m.Value, headers);
                count++;
                lastMessage = Stopwatch.GetTimestamp();
                if (builder.Length == 4096)
                {
                    yield return builder.Build();
                    builder = new MessageBatch.Builder();
                }
            }
            else if (brokers.Down)
            {
                lastMessage = Stopwatch.GetTimestamp();
                brokers.Probe(consumer);
            }
            else if (assigned && options.IdleExit is { } idle && Stopwatch.GetElapsedTime(lastMessage) >= idle) break;
        }
        if (builder.Length > 0) yield return builder.Build();
        consumer.Close();
        await Task.CompletedTask;
    }
}
