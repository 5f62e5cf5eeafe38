using System.Text;
using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Sinks;

/// <summary>
/// Writing to <c>kind: kinesis</c> sources: sink rows put to the source's stream (json: one record per row, partition
/// key = the primary key; ipc_stream: one record per batch, partition key = the resolver), dead letters to the stream its
/// <c>dead_letter_queue_topic</c> names. Kinesis records carry no headers, so a dead letter is one record holding its
/// dead-letter line (original key, payload and headers plus sluice-error, -resolver, -source), keyed by its original key.
/// </summary>
public sealed class KinesisTargetKind : ITargetKind
{
    /// <inheritdoc/>
    public string Name => "kinesis";

    /// <inheritdoc/>
    public void Validate(SourceDef target, SourceDiagnostics report) { }

    /// <inheritdoc/>
    public IBatchTarget OpenSink(SourceDef target, TargetContext context) =>
        new SinkTarget(new KinesisStreamTransport(KinesisClient.For(target), target.Options["stream_name"].Value));

    /// <inheritdoc/>
    public IBatchTarget? OpenDeadLetters(SourceDef source, TargetContext context) =>
        source.Options.TryGetValue("dead_letter_queue_topic", out var stream) && stream.Value.Length > 0
            ? new DeadLetterTarget(new KinesisStreamTransport(KinesisClient.For(source), stream.Value)) : null;
}

/// <summary>Puts records to one stream; a record without a key is keyed by the resolver that wrote it.</summary>
internal sealed class KinesisStreamTransport(KinesisClient client, string stream) : IRecordTransport
{
    public bool CarriesHeaders => false;

    public Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken) =>
        client.PutRecordsAsync(stream, records.Select(r => (r.Value ?? [], PartitionKey(r))).ToList(), cancellationToken);

    private static string PartitionKey(OutRecord r) => r.Key is { Length: > 0 } key ? Encoding.UTF8.GetString(key)
        : r.Headers.FirstOrDefault(h => h.Key == SinkRecords.ResolverHeader).Value is { } resolver ? Encoding.UTF8.GetString(resolver) : "sluice";

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
