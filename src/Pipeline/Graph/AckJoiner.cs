using System.Runtime.InteropServices;
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
    // Only each batch's last offset per partition is kept, not the batch: a target may hold acks for long (Parquet acks
    // when a file closes) and the batches themselves must not stay in memory that long.
    private readonly Dictionary<long, ((string Topic, int Partition, long Next)[] Ends, int Pending)> _open = [];
    private readonly Dictionary<(string Topic, int Partition), long> _committable = [];
    private long _nextToCommit;

    /// <summary>Registers batch <paramref name="sequence"/> (numbered from 0 in read order) with its number of parts to acknowledge.</summary>
    public void Register(long sequence, MessageBatch batch, int parts)
    {
        if (_open.ContainsKey(sequence)) throw new InvalidOperationException($"batch {sequence} registered twice");
        // Per topic, the last offset + 1 per partition. A batch mostly holds one topic: its name is decoded, and its
        // partitions looked up, only when the bytes change (hashing the name for every message showed in profiles).
        var ends = new Dictionary<string, Dictionary<int, long>>(StringComparer.Ordinal);
        Dictionary<int, long> current = null!; // set at message 0
        for (int i = 0; i < batch.Length; i++)
        {
            if (i == 0 || !batch.Topic.GetBytes(i).SequenceEqual(batch.Topic.GetBytes(i - 1)))
            {
                var topic = batch.Topic.GetString(i)!;
                if (!ends.TryGetValue(topic, out current!)) ends[topic] = current = [];
            }
            long next = batch.Offset.Values[i] + 1;
            ref long end = ref CollectionsMarshal.GetValueRefOrAddDefault(current, batch.Partition.Values[i], out bool seen);
            if (!seen || next > end) end = next;
        }
        _open[sequence] = (ends.SelectMany(t => t.Value.Select(p => (t.Key, p.Key, p.Value))).ToArray(), parts);
        Advance();
    }

    /// <summary>Acknowledges one part of batch <paramref name="sequence"/>.</summary>
    public void Ack(long sequence)
    {
        if (!_open.TryGetValue(sequence, out var entry) || entry.Pending <= 0)
            throw new InvalidOperationException($"batch {sequence} acknowledged more often than it has parts");
        _open[sequence] = (entry.Ends, entry.Pending - 1);
        Advance();
    }

    /// <summary>How many batches, counted from the first, are fully acknowledged (safe to read from any thread).</summary>
    public long Acknowledged => Volatile.Read(ref _nextToCommit);

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
            _open.Remove(_nextToCommit);
            Volatile.Write(ref _nextToCommit, _nextToCommit + 1);
            foreach (var (topic, partition, next) in entry.Ends)
                if (!_committable.TryGetValue((topic, partition), out var c) || next > c)
                {
                    _committable[(topic, partition)] = next;
                    Committed?.Invoke(topic, partition, next);
                }
        }
    }
}
