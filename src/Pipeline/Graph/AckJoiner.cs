using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Graph;

/// <summary>
/// Joins the acknowledgements of every target of every source batch into committable positions (DESIGN.md section 4):
/// a source batch is done when each of its parts (one per resolver and target) has been acknowledged, and the
/// committable offset of a partition only advances over the contiguous prefix of done batches, in the order the
/// batches were read. Not thread-safe: one block owns it.
/// </summary>
internal sealed class AckJoiner
{
    private readonly Dictionary<long, (MessageBatch Batch, int Pending)> _open = [];
    private readonly Dictionary<(string Topic, int Partition), long> _committable = [];
    private long _nextToCommit;

    /// <summary>Registers batch <paramref name="sequence"/> (numbered from 0 in read order) with its number of parts to acknowledge.</summary>
    public void Register(long sequence, MessageBatch batch, int parts)
    {
        if (_open.ContainsKey(sequence)) throw new InvalidOperationException($"batch {sequence} registered twice");
        _open[sequence] = (batch, parts);
        Advance();
    }

    /// <summary>Adds parts to a registered batch (a target that splits its work, e.g. across files).</summary>
    public void Expect(long sequence, int parts)
    {
        var (batch, pending) = _open[sequence];
        _open[sequence] = (batch, pending + parts);
    }

    /// <summary>Acknowledges one part of batch <paramref name="sequence"/>.</summary>
    public void Ack(long sequence)
    {
        if (!_open.TryGetValue(sequence, out var entry) || entry.Pending <= 0)
            throw new InvalidOperationException($"batch {sequence} acknowledged more often than it has parts");
        _open[sequence] = (entry.Batch, entry.Pending - 1);
        Advance();
    }

    /// <summary>Batches read but not yet fully acknowledged.</summary>
    public int InFlight => _open.Count;

    /// <summary>The next offset to commit per (topic, partition): one past the last offset of the acknowledged prefix.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> Committable => _committable;

    /// <summary>Raised with each (topic, partition, next offset) as the prefix advances.</summary>
    public event Action<string, int, long>? Committed;

    private void Advance()
    {
        while (_open.TryGetValue(_nextToCommit, out var entry) && entry.Pending == 0)
        {
            _open.Remove(_nextToCommit++);
            var b = entry.Batch;
            var advanced = new Dictionary<(string, int), long>();
            for (int i = 0; i < b.Length; i++)
            {
                var tp = (b.Topic.GetString(i)!, b.Partition.Values[i]);
                long next = b.Offset.Values[i] + 1;
                if (!_committable.TryGetValue(tp, out var c) || next > c) _committable[tp] = advanced[tp] = next;
            }
            foreach (var ((topic, partition), next) in advanced) Committed?.Invoke(topic, partition, next);
        }
    }
}
