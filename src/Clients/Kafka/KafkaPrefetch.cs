using Confluent.Kafka;

namespace Sluice.Clients;

/// <summary>How the Kafka source prefetches; the recorder and the benchmark's bare consumer read with the same settings.</summary>
internal static class KafkaPrefetch
{
    /// <summary>
    /// Sets the prefetch of a backlog read on <paramref name="config"/> (before the definition's own settings, which win):
    /// <list type="bullet">
    /// <item>queued.min.messages 1,000,000: prefetch up to the local queue's byte bound (queued.max.messages.kbytes, 64 MB)
    /// rather than librdkafka's 100,000 messages; with the default the consuming thread waited in poll for two thirds of a
    /// 1M-message read of the mock broker (103-110k msgs/s through the users resolver; 173-189k with this).</item>
    /// <item>fetch.queue.backoff.ms 20: once the queue is over that bound, a partition's next fetch waits this long instead
    /// of librdkafka's 1 s, so that a consumer that drains the queue faster than that no longer sits idle until the
    /// second is up. A bare consumer of the mock broker read 400-480k msgs/s with the default and 560-700k with this.</item>
    /// </list>
    /// </summary>
    public static ConsumerConfig WithPrefetch(this ConsumerConfig config)
    {
        config.QueuedMinMessages = 1_000_000;
        config.FetchQueueBackoffMs = 20;
        return config;
    }
}
