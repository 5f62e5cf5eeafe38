using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Grpc.Net.Client;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Stores;
using Sluice.Sources.Kafka;

namespace Sluice.Sources.PubSub;

/// <summary>Publishes to Pub/Sub topics, one client per source, in calls of at most 1,000 messages.</summary>
internal sealed class PubSubPublishers : IDisposable
{
    private readonly Dictionary<string, (GrpcChannel Channel, Publisher.PublisherClient Client)> _clients = new(StringComparer.Ordinal);

    public async Task PublishAsync(SourceDef source, string topicId, IReadOnlyList<PubsubMessage> messages, CancellationToken ct)
    {
        if (!_clients.TryGetValue(source.Name, out var c))
        {
            var channel = PubSubChannels.For(source);
            _clients[source.Name] = c = (channel, new Publisher.PublisherClient(channel));
        }
        var topic = $"projects/{PubSubChannels.Option(source, "project_id")}/topics/{topicId}";
        for (int i = 0; i < messages.Count; i += 1000)
        {
            var request = new PublishRequest { Topic = topic };
            request.Messages.AddRange(messages.Skip(i).Take(1000));
            await c.Client.PublishAsync(request, cancellationToken: ct);
        }
    }

    public void Dispose()
    {
        foreach (var (channel, _) in _clients.Values) channel.Dispose();
    }
}

/// <summary>
/// A sink to Pub/Sub: for a target source of kind pubsub (its <c>topic_id</c>), <c>json</c> publishes one message per row
/// with the primary key as attribute <c>sluice-key</c>, <c>ipc_stream</c> one message per batch. Other targets go to <c>other</c>.
/// </summary>
public sealed class PubSubSink(CompiledDefinitions definitions, IBatchTarget other) : IBatchTarget
{
    private readonly PubSubPublishers _publishers = new();

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        if (!definitions.Sources.TryGetValue(plan.Sink!.Target, out var target) || target.Kind.Value != "pubsub")
            return await other.WriteAsync(plan, batch, cancellationToken);
        var (columns, types) = SinkEncoding.Columns(plan, batch);
        if (columns.Length == 0) return 0;
        var messages = new List<PubsubMessage>();
        if (plan.Sink.Format == "json")
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            for (int r = 0; r < columns.Length; r++)
            {
                buffer.ResetWrittenCount();
                SinkEncoding.JsonRow(columns, types, r, buffer);
                var m = new PubsubMessage { Data = ByteString.CopyFrom(buffer.WrittenSpan) };
                m.Attributes["sluice-key"] = System.Text.Encoding.UTF8.GetString(SinkEncoding.Key(plan, batch, r));
                m.Attributes["sluice-resolver"] = plan.Name;
                messages.Add(m);
            }
        }
        else messages.Add(new PubsubMessage { Data = ByteString.CopyFrom(SinkEncoding.IpcStream(columns)), Attributes = { ["sluice-resolver"] = plan.Name } });
        await _publishers.PublishAsync(target, PubSubChannels.Option(target, "topic_id"), messages, cancellationToken);
        return messages.Count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _publishers.Dispose();
        await other.DisposeAsync();
    }
}

/// <summary>
/// The dead-letter topic of a Pub/Sub source (<c>dead_letter_queue_topic</c>, a topic id of its project): the original
/// payload and attributes plus <c>sluice-error</c>, <c>sluice-resolver</c> and <c>sluice-source</c> attributes.
/// </summary>
public sealed class PubSubDeadLetters(IBatchTarget other) : IBatchTarget
{
    private readonly PubSubPublishers _publishers = new();

    /// <inheritdoc/>
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        if (plan.Source.Kind.Value != "pubsub" || !plan.Source.Options.TryGetValue("dead_letter_queue_topic", out var topic) || topic.Value.Length == 0)
            return await other.WriteAsync(plan, batch, cancellationToken);
        var m = batch.Messages;
        var messages = FileDeadLetters.FailedMessages(batch).Select(i =>
        {
            var message = new PubsubMessage { Data = m.Value.IsNull(i) ? ByteString.Empty : ByteString.CopyFrom(m.Value.GetBytes(i)) };
            foreach (var (name, value) in m.HeadersOf(i)) message.Attributes[name] = System.Text.Encoding.UTF8.GetString(value);
            foreach (var (name, value) in FileDeadLetters.DeadLetterHeaders(plan, batch, i)) message.Attributes[name] = value;
            return message;
        }).ToList();
        if (messages.Count == 0) return 0;
        await _publishers.PublishAsync(plan.Source, topic.Value, messages, cancellationToken);
        return messages.Count;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _publishers.Dispose();
        await other.DisposeAsync();
    }
}

/// <summary>Serves the Pub/Sub resolvers of a definition file: one streaming pull and one block graph per resolver.</summary>
public static class PubSubRunner
{
    /// <summary>The Pub/Sub resolvers of <paramref name="definitions"/> that run in <paramref name="environment"/>.</summary>
    public static IReadOnlyList<ResolverPlan> Resolvers(CompiledDefinitions definitions, string? environment, IReadOnlyCollection<string>? only = null) =>
        LiveRunners.Resolvers(definitions, "pubsub", environment, only);

    /// <summary>Runs the resolvers until <paramref name="stop"/> or idle exit; returns each one's outcome counts.</summary>
    public static Task<IReadOnlyDictionary<string, OutcomeCounts>> RunAsync(CompiledDefinitions definitions, GraphOptions options,
        PubSubSourceOptions sourceOptions, Action<string, long, OutcomeCounts>? progress = null, CancellationToken stop = default) =>
        LiveRunners.RunEachAsync(Resolvers(definitions, options.Environment, options.Resolvers), "Pub/Sub", options.Environment, async (plan, ct) =>
        {
            await using var source = new PubSubSource(plan, sourceOptions);
            await using var sink = new PubSubSink(definitions, new KafkaSink(definitions, new FileSink(options.SinkDirectory)));
            await using var deadLetters = new PubSubDeadLetters(new FileDeadLetters(options.DeadLetterPath));
            var result = await StreamGraph.RunAsync(definitions, source.ReadAsync(ct), options with
            {
                Resolvers = [plan.Name],
                Committed = source.Committable,
                Clock = options.Clock ?? TimeProvider.System,
                Linger = TimeSpan.Zero,
                // Messages stay unacknowledged (and count against flow control) until their Parquet file closes.
                OfflineFileAge = options.OfflineFileAge < TimeSpan.FromSeconds(2) ? options.OfflineFileAge : TimeSpan.FromSeconds(2),
                Sink = sink,
                DeadLetters = deadLetters,
            }, progress is null ? null : (messages, counts) => progress(plan.Name, messages, counts[plan.Name]), CancellationToken.None);
            return result.Resolvers[plan.Name];
        }, stop);
}
