using System.Runtime.CompilerServices;
using System.Text;
using Sluice.Pipeline.Messages;
using Sluice.Sources.Recording;

namespace Sluice.Sources.Kinesis;

/// <summary>
/// <c>sluice record --kinesis-stream</c>: copies what a stream holds (every shard, parents before children, from the
/// oldest record or only new ones) into a recording that <c>replay</c> reads back: topic = stream, partition = shard
/// number, offset = the record's index within its shard, timestamp = approximate arrival, key = partition key. Reading
/// ends when every shard is caught up (or at the limit); it writes no checkpoint.
/// </summary>
public static class KinesisRecorder
{
    /// <summary>What to record.</summary>
    public sealed record Options(string Stream, string OutPath)
    {
        /// <summary>The endpoint (e.g. a local kinesalite); null: the region's AWS endpoint.</summary>
        public string? EndpointUrl { get; init; }
        /// <summary>The AWS region.</summary>
        public string Region { get; init; } = "us-east-1";
        /// <summary>Stop after this many messages (null: no limit).</summary>
        public long? MaxMessages { get; init; }
        /// <summary>Start at the oldest record (TRIM_HORIZON) instead of new records only (LATEST).</summary>
        public bool FromBeginning { get; init; }
    }

    /// <summary>Records; returns the number of messages written.</summary>
    public static async Task<long> RecordAsync(Options options, Action<long>? progress = null, CancellationToken stop = default)
    {
        var region = options.Region;
        using var client = new KinesisClient(new Uri(options.EndpointUrl ?? $"https://kinesis.{region}.amazonaws.com"), region,
            Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "sluice", Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "sluice");
        long count = 0;
        await RecordingFile.WriteAsync(options.OutPath, Batches(CancellationToken.None), CancellationToken.None);
        return count;

        async IAsyncEnumerable<MessageBatch> Batches([EnumeratorCancellation] CancellationToken ct = default)
        {
            var shards = await client.ListShardsAsync(options.Stream, stop);
            var done = new HashSet<string>(StringComparer.Ordinal);
            while (done.Count < shards.Count && !stop.IsCancellationRequested)
            {
                // Parents first, so that a key's records keep their order in the recording.
                var shard = shards.First(s => !done.Contains(s.ShardId) && new[] { s.ParentShardId, s.AdjacentParentShardId }
                    .All(p => p is null || done.Contains(p) || shards.All(x => x.ShardId != p)));
                done.Add(shard.ShardId);
                var iterator = await client.GetShardIteratorAsync(options.Stream, shard.ShardId, options.FromBeginning ? "TRIM_HORIZON" : "LATEST", null, stop);
                long offset = 0;
                while (iterator is not null && !stop.IsCancellationRequested && (options.MaxMessages is not { } max || count < max))
                {
                    var (records, next, behind) = await client.GetRecordsAsync(iterator, 10_000, stop);
                    var b = new MessageBatch.Builder();
                    foreach (var r in records.Take((int)Math.Min(records.Count, (options.MaxMessages ?? long.MaxValue) - count)))
                        b.Append(options.Stream, shard.Ordinal, offset++, (r.ApproximateArrivalTimestamp.Ticks - DateTime.UnixEpoch.Ticks) / 10,
                            Encoding.UTF8.GetBytes(r.PartitionKey), r.Data);
                    if (b.Length > 0)
                    {
                        count += b.Length;
                        yield return b.Build();
                        progress?.Invoke(count);
                    }
                    if (records.Count == 0 && behind == 0) break; // caught up
                    iterator = next;
                }
            }
        }
    }
}
