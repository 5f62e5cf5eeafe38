using Sluice.Pipeline.Messages;

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

/// <summary>How the graph treats a source's batches.</summary>
public sealed record SourceTraits
{
    /// <summary>
    /// A live source: late arrival is measured against the wall clock, and it hands on fragments when they are due (the
    /// graph does not hold them to fill a batch). A recording is not live: lateness is measured against stream time (the
    /// newest message timestamp read so far), so that replaying an old recording behaves as it did live.
    /// </summary>
    public bool Live { get; init; }

    /// <summary>Messages per batch the graph resolves at once.</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>
    /// How long rows may wait to become durable (offline segments close at least this often), so that positions keep
    /// advancing (a consumer's commits, a subscription's acknowledgement deadlines); null: the offline store's own age.
    /// </summary>
    public TimeSpan? DurableWithin { get; init; }
}

/// <summary>
/// What a source hands the graph: a fragment of messages, or a flush request (a partition being revoked, a source
/// stopping): once every message handed before it is durable at every target and its position acknowledged, the graph
/// completes <see cref="Flushed"/>.
/// </summary>
public readonly record struct SourceEvent(MessageBatch? Messages, TaskCompletionSource? Flushed)
{
    /// <summary>A fragment of messages.</summary>
    public static SourceEvent Of(MessageBatch messages) => new(messages, null);

    /// <summary>A flush request, completed when everything handed before it is acknowledged.</summary>
    public static SourceEvent Flush(TaskCompletionSource flushed) => new(null, flushed);
}
