using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Contracts;

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
