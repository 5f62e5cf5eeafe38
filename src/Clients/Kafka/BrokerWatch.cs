using System.Diagnostics;
using Confluent.Kafka;

namespace Sluice.Clients;

/// <summary>
/// Whether a consumer's brokers are down, for the idle rules of <c>run</c> and <c>record</c> (waiting for brokers is
/// not idleness). librdkafka reports every broker going down, and each connection that fails (<see cref="Saw"/>, from
/// <see cref="KafkaLog.OnTransportError"/>), but not one coming back, so after either <see cref="Probe"/> asks for the
/// topic's offsets, at most once a second, until a broker answers. A failed connection counts too: under load the
/// all-brokers-down report came too late or not at all, and a recorder went idle while its broker was down.
/// </summary>
internal sealed class BrokerWatch(string topic)
{
    private volatile bool _down;
    private long _lastProbe = Stopwatch.GetTimestamp();

    /// <summary>Set when librdkafka reports every broker down or a connection failed, cleared by a <see cref="Probe"/> a broker answers.</summary>
    public bool Down => _down;

    /// <summary>Hears a client error (on librdkafka's thread).</summary>
    public void Saw(Error e)
    {
        if (e.Code is ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport) _down = true;
    }

    /// <summary>
    /// While <see cref="Down"/>, and a second after the last probe: whether a broker answers a request for the topic's
    /// offsets now (then <see cref="Down"/> clears). Call on the consumer's thread, which has nothing to read meanwhile.
    /// </summary>
    public bool Probe<TKey, TValue>(IConsumer<TKey, TValue> consumer)
    {
        if (!_down || Stopwatch.GetElapsedTime(_lastProbe) < TimeSpan.FromSeconds(1)) return false;
        try
        {
            consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromMilliseconds(500));
            _down = false;
            return true;
        }
        catch (KafkaException)
        {
            return false;
        }
        finally
        {
            _lastProbe = Stopwatch.GetTimestamp();
        }
    }
}
