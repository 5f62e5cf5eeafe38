using Google.Cloud.PubSub.V1;
using Grpc.Net.Client;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;
using Sluice.Sources.Recording;

namespace Sluice.Sources.PubSub;

/// <summary>
/// <c>sluice record --pubsub-subscription</c>: pulls a subscription into a recording that <c>replay</c> reads back (topic =
/// subscription id, partition 0, offset = arrival order, timestamp = publish time, key = ordering key, headers =
/// attributes). Messages are acknowledged once the file is written, so give the recorder a subscription of its own.
/// </summary>
public static class PubSubRecorder
{
    /// <summary>What to record.</summary>
    public sealed record Options(string Project, string Subscription, string OutPath)
    {
        /// <summary>Stop after this many messages (null: no limit).</summary>
        public long? MaxMessages { get; init; }
        /// <summary>Stop once a pull found nothing for this long.</summary>
        public TimeSpan IdleExit { get; init; } = TimeSpan.FromSeconds(2);
    }

    /// <summary>Records; returns the number of messages written.</summary>
    public static async Task<long> RecordAsync(Options options, CancellationToken stop = default)
    {
        var source = new SourceDef("record", new Located<string>("pubsub", new SourceLocation("record", 0, 0)),
            new Dictionary<string, Located<string>>(), new SourceLocation("record", 0, 0));
        using GrpcChannel channel = PubSubChannels.For(source);
        var client = new Subscriber.SubscriberClient(channel);
        var subscription = $"projects/{options.Project}/subscriptions/{options.Subscription}";
        var ackIds = new List<string>();
        long count = 0;
        await RecordingFile.WriteAsync(options.OutPath, Batches(CancellationToken.None), CancellationToken.None);
        for (int i = 0; i < ackIds.Count; i += 1000)
        {
            var ack = new AcknowledgeRequest { Subscription = subscription };
            ack.AckIds.AddRange(ackIds.Skip(i).Take(1000));
            await client.AcknowledgeAsync(ack, cancellationToken: stop);
        }
        return count;

        async IAsyncEnumerable<MessageBatch> Batches([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
        {
            var idleSince = DateTime.UtcNow;
            while (!stop.IsCancellationRequested && (options.MaxMessages is not { } max || count < max) && DateTime.UtcNow - idleSince < options.IdleExit)
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
                foreach (var r in response.ReceivedMessages)
                {
                    var m = r.Message;
                    var headers = m.Attributes.Select(a => KeyValuePair.Create(a.Key, System.Text.Encoding.UTF8.GetBytes(a.Value))).ToList();
                    headers.Add(KeyValuePair.Create(MessageBatch.MessageIdHeader, System.Text.Encoding.UTF8.GetBytes(m.MessageId)));
                    b.Append(options.Subscription, 0, count++, m.PublishTime is { } t ? t.Seconds * 1_000_000 + t.Nanos / 1000 : 0,
                        m.OrderingKey.Length == 0 ? null : System.Text.Encoding.UTF8.GetBytes(m.OrderingKey), m.Data.ToByteArray(), headers);
                    ackIds.Add(r.AckId);
                }
                yield return b.Build();
            }
        }
    }
}
