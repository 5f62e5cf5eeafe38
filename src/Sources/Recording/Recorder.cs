using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources;

/// <summary>
/// <c>sluice record</c>, for every kind: copies what a source holds (<see cref="ISourceKind.RecordAsync"/>) into a
/// recording (<c>.arrows</c> or <c>.jsonl</c>, by extension) that <c>replay</c> reads back identically: topic,
/// partition, offset, timestamp, key, payload and headers. Each batch is on disk before the next is read.
/// </summary>
internal static class Recorder
{
    /// <summary>Records until the source's end, the limit, idleness or <paramref name="stop"/>; returns the number of messages written.</summary>
    public static async Task<long> RecordAsync(ISourceKind kind, SourceDef source, RecordOptions options, string outPath, Action<long>? progress = null,
        CancellationToken stop = default)
    {
        long count = 0;
        await RecordingFile.WriteAsync(outPath, Counted(kind.RecordAsync(source, options, stop)), durable: true, CancellationToken.None);
        return count;

        async IAsyncEnumerable<MessageBatch> Counted(IAsyncEnumerable<MessageBatch> batches)
        {
            await foreach (var b in batches)
            {
                count += b.Length;
                progress?.Invoke(count);
                yield return b;
            }
        }
    }
}
