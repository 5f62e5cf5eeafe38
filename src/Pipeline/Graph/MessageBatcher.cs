using System.Diagnostics;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Graph;

/// <summary>
/// The batcher of the block graph: regroups small incoming message fragments (single consumed messages, short polls)
/// into batches of <c>size</c> messages, or fewer once the oldest waiting message has lingered <c>linger</c>. A fragment
/// of at least half the batch size (a recording's chunks, a full poll) passes through whole, without a copy, after
/// whatever was waiting: copying every message of a 1M-message replay whose chunks were misaligned by one short chunk
/// cost 400 B/msg of allocation. Order is kept. Not thread-safe.
/// </summary>
internal sealed class MessageBatcher(int size, TimeSpan linger)
{
    private readonly MessageBatch.Builder _builder = new();
    private long _firstWaitingAt;

    /// <summary>Messages waiting for a batch.</summary>
    public int Waiting => _builder.Length;

    /// <summary>Adds a fragment that arrived at <paramref name="nowTicks"/> (a <see cref="Stopwatch"/> timestamp); returns the batches now ready.</summary>
    public IReadOnlyList<MessageBatch> Add(MessageBatch fragment, long nowTicks)
    {
        if (fragment.Length >= Math.Max(1, size / 2))
            return _builder.Length == 0 ? [fragment] : [_builder.Build(), fragment];
        var ready = new List<MessageBatch>();
        for (int i = 0; i < fragment.Length; i++)
        {
            if (_builder.Length == 0) _firstWaitingAt = nowTicks;
            _builder.AppendFrom(fragment, i);
            if (_builder.Length == size) ready.Add(_builder.Build());
        }
        if (Due(nowTicks) is { } late) ready.Add(late);
        return ready;
    }

    /// <summary>The waiting messages as a batch when the oldest has lingered long enough (a live source calls this on a timer); else null.</summary>
    public MessageBatch? Due(long nowTicks) =>
        _builder.Length > 0 && Stopwatch.GetElapsedTime(_firstWaitingAt, nowTicks) >= linger ? _builder.Build() : null;

    /// <summary>Whatever is waiting, as a batch (end of input); null when nothing is.</summary>
    public MessageBatch? Flush() => _builder.Length > 0 ? _builder.Build() : null;
}
