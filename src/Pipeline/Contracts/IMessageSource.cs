namespace Sluice.Pipeline.Contracts;

/// <summary>
/// A stream being read (a topic's partitions, a stream's shards, a subscription, a recording) for the graph. Contract:
/// <list type="bullet">
/// <item><see cref="ReadAsync"/> hands the graph fragments of messages in read order per partition, and flush requests
/// (a partition being revoked): the graph completes a flush request once everything handed before it is durable at
/// every target and its positions were reported through <see cref="Acknowledged"/>.</item>
/// <item>Delivery is at least once: the source makes a position permanent (commits an offset, writes a checkpoint,
/// acknowledges a message) only once <see cref="Acknowledged"/> reported it; anything else is read again after a crash,
/// from the same position, so that deduplication sees a redelivery, not a duplicate.</item>
/// <item>The enumeration ends when the source is stopped, idle past its idle limit, or at its end (a recording); a
/// source that fails ends it with the failure. Disposal commits whatever was acknowledged and leaves (a consumer group).</item>
/// </list>
/// </summary>
public interface IMessageSource : IAsyncDisposable
{
    /// <summary>How the graph treats this source's batches.</summary>
    SourceTraits Traits { get; }

    /// <summary>The events for the graph, until <paramref name="stop"/>, idleness or the end of the stream. Read once.</summary>
    IAsyncEnumerable<SourceEvent> ReadAsync(CancellationToken stop);

    /// <summary>The graph's report that (<paramref name="topic"/>, <paramref name="partition"/>) is durable up to, not including, <paramref name="next"/>.</summary>
    void Acknowledged(string topic, int partition, long next);

    /// <summary>What went wrong without stopping the run (offset commits a broker refused, ...), for the run's report; read after disposal.</summary>
    IReadOnlyList<string> Warnings { get; }

    /// <summary>A failure of the source itself (a fatal client error, a final commit that failed), read after disposal: the run fails with it.</summary>
    Exception? Fault { get; }
}
