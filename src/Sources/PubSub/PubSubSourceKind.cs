using System.Runtime.CompilerServices;
using Google.Cloud.PubSub.V1;
using Grpc.Net.Client;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources;

/// <summary>
/// <c>kind: pubsub</c>: each resolver reads the subscription with StreamingPull (<see cref="PubSubSource"/>); resolvers
/// that must each see every message need a subscription each. Its keys are <see cref="PubSubChannels.Options"/>.
/// </summary>
public sealed class PubSubSourceKind(PubSubSourceOptions? options = null) : ISourceKind
{
    private readonly PubSubSourceOptions _options = options ?? new PubSubSourceOptions();

    /// <inheritdoc/>
    public string Name => "pubsub";
    /// <inheritdoc/>
    public IReadOnlyList<SourceOption> Options => PubSubChannels.Options;
    /// <inheritdoc/>
    public bool Live => true;
    /// <inheritdoc/>
    public bool ReaderPerResolver => true;

    /// <summary>A source that resolvers read needs its subscription.</summary>
    public void Validate(SourceDef source, SourceDiagnostics report)
    {
        if (!source.Options.ContainsKey("subscription_id"))
            report.Error(Pipeline.Definitions.DefinitionErrorCodes.MissingKey, "a resolver reads it, so it needs subscription_id: the subscription to pull", source.Location);
    }

    /// <inheritdoc/>
    public IMessageSource Open(SourceDef source, IReadOnlyList<ResolverPlan> resolvers, SourceContext context) =>
        new PubSubSource(resolvers.Single(), _options, context);

    /// <summary>
    /// Pulls the subscription (topic = subscription id, partition 0, offset = arrival order, timestamp = publish time,
    /// key = ordering key, headers = attributes and <c>sluice-message-id</c>) until nothing arrived for the idle limit
    /// (2 s by default). Each batch is acknowledged once the next is asked for, when the recorder has made it durable:
    /// give the recorder a subscription of its own.
    /// </summary>
    public async IAsyncEnumerable<MessageBatch> RecordAsync(SourceDef source, RecordOptions options, [EnumeratorCancellation] CancellationToken stop)
    {
        using GrpcChannel channel = PubSubChannels.For(source);
        var client = new Subscriber.SubscriberClient(channel);
        var subscriptionId = PubSubChannels.Option(source, "subscription_id");
        var subscription = $"projects/{PubSubChannels.Option(source, "project_id")}/subscriptions/{subscriptionId}";
        var idle = options.IdleExit ?? TimeSpan.FromSeconds(2);
        long count = 0;
        var idleSince = DateTime.UtcNow;
        while (!stop.IsCancellationRequested && (options.MaxMessages is not { } max || count < max) && DateTime.UtcNow - idleSince < idle)
        {
            int want = (int)Math.Min(1000, (options.MaxMessages ?? long.MaxValue) - count);
            var response = await client.PullAsync(new PullRequest { Subscription = subscription, MaxMessages = want }, cancellationToken: stop);
            if (response.ReceivedMessages.Count == 0)
            {
                await Task.Delay(100, stop);
                continue;
            }
            idleSince = DateTime.UtcNow;
            var b = new MessageBatch.Builder();
            foreach (var r in response.ReceivedMessages) PubSubSource.AppendMessage(b, subscriptionId, count++, r.Message);
            yield return b.Build();
            // Asked for the next batch: the recorder has made this one durable.
            var ack = new AcknowledgeRequest { Subscription = subscription };
            ack.AckIds.AddRange(response.ReceivedMessages.Select(r => r.AckId));
            await client.AcknowledgeAsync(ack, cancellationToken: CancellationToken.None);
        }
    }
}
