using System.Runtime.CompilerServices;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sources;

/// <summary>
/// Recordings read one after the other to their ends: a <c>kind: recording</c> source, or the files a replay stands in
/// for the resolvers' own sources. Not live: late arrival is measured in stream time, so a replay decides as the live
/// run did. Nothing to commit.
/// </summary>
internal sealed class RecordingSource(IReadOnlyList<string> paths) : IMessageSource
{
    /// <inheritdoc/>
    public SourceTraits Traits { get; } = new();

    /// <inheritdoc/>
    public async IAsyncEnumerable<SourceEvent> ReadAsync([EnumeratorCancellation] CancellationToken stop)
    {
        foreach (var path in paths)
            await foreach (var b in RecordingFile.ReadAsync(path, 4096, stop))
                yield return SourceEvent.Of(b);
    }

    /// <inheritdoc/>
    public void Acknowledged(string topic, int partition, long next) { }

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings => [];

    /// <inheritdoc/>
    public Exception? Fault => null;

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
