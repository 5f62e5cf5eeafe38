using System.Runtime.CompilerServices;
using System.Text;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources;

/// <summary>
/// <c>kind: kinesis</c>: each resolver reads every shard of the stream with checkpoints of its own
/// (<see cref="KinesisSource"/>), kept in <c>kinesis-checkpoints.db</c> in the run's state folder. Its keys are
/// <see cref="KinesisClient.Options"/>.
/// </summary>
public sealed class KinesisSourceKind(KinesisSourceOptions? options = null) : ISourceKind
{
    private readonly KinesisSourceOptions _options = options ?? new KinesisSourceOptions();

    /// <inheritdoc/>
    public string Name => "kinesis";
    /// <inheritdoc/>
    public IReadOnlyList<SourceOption> Options => KinesisClient.Options;
    /// <inheritdoc/>
    public bool Live => true;
    /// <inheritdoc/>
    public bool ReaderPerResolver => true;

    /// <inheritdoc/>
    public void Validate(SourceDef source, SourceDiagnostics report) { }

    /// <inheritdoc/>
    public IMessageSource Open(SourceDef source, IReadOnlyList<ResolverPlan> resolvers, SourceContext context) =>
        new KinesisSource(resolvers.Single(), _options, context);

    /// <summary>
    /// Copies what the stream holds (every shard, parents before children, from the oldest record or only new ones):
    /// topic = stream, partition = shard number, offset = the record's index within its shard, timestamp = approximate
    /// arrival, key = partition key. Reading ends when every shard is caught up (or at the limit); no checkpoint is written.
    /// </summary>
    public async IAsyncEnumerable<MessageBatch> RecordAsync(SourceDef source, RecordOptions options, [EnumeratorCancellation] CancellationToken stop)
    {
        using var client = KinesisClient.For(source);
        var stream = source.Options["stream_name"].Value;
        long count = 0;
        var shards = await client.ListShardsAsync(stream, stop);
        var done = new HashSet<string>(StringComparer.Ordinal);
        while (done.Count < shards.Count && !stop.IsCancellationRequested)
        {
            // Parents first, so that a key's records keep their order in the recording.
            var shard = shards.First(s => !done.Contains(s.ShardId) && new[] { s.ParentShardId, s.AdjacentParentShardId }
                .All(p => p is null || done.Contains(p) || shards.All(x => x.ShardId != p)));
            done.Add(shard.ShardId);
            var iterator = await client.GetShardIteratorAsync(stream, shard.ShardId, options.FromBeginning ? "TRIM_HORIZON" : "LATEST", null, stop);
            long offset = 0;
            while (iterator is not null && !stop.IsCancellationRequested && (options.MaxMessages is not { } max || count < max))
            {
                var (records, next, behind) = await client.GetRecordsAsync(iterator, 10_000, stop);
                var b = new MessageBatch.Builder();
                foreach (var r in records.Take((int)Math.Min(records.Count, (options.MaxMessages ?? long.MaxValue) - count)))
                    b.Append(stream, shard.Ordinal, offset++, (r.ApproximateArrivalTimestamp.Ticks - DateTime.UnixEpoch.Ticks) / 10,
                        Encoding.UTF8.GetBytes(r.PartitionKey), r.Data);
                if (b.Length > 0)
                {
                    count += b.Length;
                    yield return b.Build();
                }
                if (records.Count == 0 && behind == 0) break; // caught up
                iterator = next;
            }
        }
    }
}
