using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Grpc.Net.Client;
using Sluice.Clients;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Sinks;

/// <summary>
/// Writing to <c>kind: pubsub</c> sources: sink rows published to the source's <c>topic_id</c> (json: one message per row
/// with the primary key as attribute <c>sluice-key</c>; ipc_stream: one message per batch), dead letters to the topic its
/// <c>dead_letter_queue_topic</c> names, with the original attributes plus sluice-error, -resolver and -source.
/// </summary>
public sealed class PubSubTargetKind : ITargetKind
{
    /// <inheritdoc/>
    public string Name => "pubsub";

    /// <summary>A sink target needs the topic to publish to.</summary>
    public void Validate(SourceDef target, SourceDiagnostics report)
    {
        if (!target.Options.TryGetValue("topic_id", out var topic) || topic.Value.Length == 0)
            report.Error(DefinitionErrorCodes.UnwritableTarget, $"a pubsub source takes sink rows only with topic_id (the topic to publish to); {target.Name} has none", target.Location);
    }

    /// <inheritdoc/>
    public IBatchTarget OpenSink(SourceDef target, TargetContext context) =>
        new SinkTarget(new PubSubTopicTransport(target, PubSubChannels.Option(target, "topic_id"), keyAttribute: true));

    /// <inheritdoc/>
    public IBatchTarget? OpenDeadLetters(SourceDef source, TargetContext context) =>
        source.Options.TryGetValue("dead_letter_queue_topic", out var topic) && topic.Value.Length > 0
            ? new DeadLetterTarget(new PubSubTopicTransport(source, topic.Value, keyAttribute: false)) : null;
}

/// <summary>
/// Publishes records to one topic of the source's project, in calls of at most 1,000 messages: headers become
/// attributes; with <paramref name="keyAttribute"/>, a record's key becomes attribute <c>sluice-key</c>.
/// </summary>
internal sealed class PubSubTopicTransport(SourceDef source, string topicId, bool keyAttribute) : IRecordTransport
{
    private readonly GrpcChannel _channel = PubSubChannels.For(source);
    private readonly string _topic = $"projects/{PubSubChannels.Option(source, "project_id")}/topics/{topicId}";

    public bool CarriesHeaders => true;

    public async Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken)
    {
        var client = new Publisher.PublisherClient(_channel);
        for (int i = 0; i < records.Count; i += 1000)
        {
            var request = new PublishRequest { Topic = _topic };
            foreach (var r in records.Skip(i).Take(1000))
            {
                var m = new PubsubMessage { Data = r.Value is null ? ByteString.Empty : ByteString.CopyFrom(r.Value) };
                foreach (var (name, value) in r.Headers) m.Attributes[name] = System.Text.Encoding.UTF8.GetString(value);
                if (keyAttribute && r.Key is not null) m.Attributes["sluice-key"] = System.Text.Encoding.UTF8.GetString(r.Key);
                request.Messages.Add(m);
            }
            // A retried publish may publish twice (at least once, as Pub/Sub's own clients).
            await PubSubChannels.Retry.ExecuteAsync(async ct => await client.PublishAsync(request, cancellationToken: ct), cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
