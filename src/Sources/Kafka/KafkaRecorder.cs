using System.Diagnostics;
using System.Runtime.CompilerServices;
using Confluent.Kafka;
using Sluice.Pipeline.Messages;
using Sluice.Sources.Recording;

namespace Sluice.Sources.Kafka;

/// <summary>
/// <c>sluice record</c>: copies a topic into a recording (<c>.arrows</c> or <c>.jsonl</c>, by extension) that
/// <c>replay</c> reads back identically: topic, partition, offset, timestamp, key, payload and headers. It reads in a
/// throwaway consumer group and commits nothing, so recording never moves a resolver's offsets.
/// </summary>
public static class KafkaRecorder
{
    /// <summary>What to record and when to stop.</summary>
    public sealed record Options(string BootstrapServers, string Topic, string OutPath)
    {
        /// <summary>Stop after this many messages (null: no limit).</summary>
        public long? MaxMessages { get; init; }
        /// <summary>Start at the earliest offset instead of the end of the topic.</summary>
        public bool FromBeginning { get; init; }
        /// <summary>Stop once no message arrived for this long (null: until cancelled or the limit).</summary>
        public TimeSpan? IdleExit { get; init; }
    }

    /// <summary>Records until the limit, idleness or <paramref name="stop"/>; returns the number of messages written.</summary>
    public static async Task<long> RecordAsync(Options options, Action<long>? progress = null, CancellationToken stop = default)
    {
        KafkaNative.EnsureLoaded();
        long count = 0;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = "sluice-record-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = options.FromBeginning ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
        }.WithPrefetch()).Build(); // a recording from the beginning is a backlog read
        consumer.Subscribe(options.Topic);
        await RecordingFile.WriteAsync(options.OutPath, Batches(CancellationToken.None), CancellationToken.None);
        consumer.Close();
        return count;

        async IAsyncEnumerable<MessageBatch> Batches([EnumeratorCancellation] CancellationToken ct = default)
        {
            var builder = new MessageBatch.Builder();
            long lastMessage = Stopwatch.GetTimestamp();
            while (!stop.IsCancellationRequested && (options.MaxMessages is not { } max || count < max))
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r is { IsPartitionEOF: false, Message: { } m })
                {
                    var headers = m.Headers?.Select(h => new KeyValuePair<string, byte[]>(h.Key, h.GetValueBytes() ?? [])).ToArray();
                    long ts = m.Timestamp.Type == TimestampType.NotAvailable ? 0 : m.Timestamp.UnixTimestampMs * 1000;
                    builder.Append(r.Topic, r.Partition.Value, r.Offset.Value, ts, m.Key, m.Value, headers);
                    count++;
                    lastMessage = Stopwatch.GetTimestamp();
                    if (builder.Length == 4096)
                    {
                        yield return builder.Build();
                        builder = new MessageBatch.Builder();
                        progress?.Invoke(count);
                    }
                }
                else if (options.IdleExit is { } idle && Stopwatch.GetElapsedTime(lastMessage) >= idle) break;
            }
            if (builder.Length > 0) yield return builder.Build();
            progress?.Invoke(count);
            await Task.CompletedTask;
        }
    }
}
