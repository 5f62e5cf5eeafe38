using Grpc.Core;
using Grpc.Net.Client;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Clients;

/// <summary>The gRPC channel of a Pub/Sub source: <c>PUBSUB_EMULATOR_HOST</c> (plain text) or Google's endpoint with a bearer token.</summary>
internal static class PubSubChannels
{
    /// <summary>The keys of a <c>kind: pubsub</c> source.</summary>
    public static IReadOnlyList<SourceOption> Options { get; } =
    [
        new("project_id", "the Google Cloud project of the subscription and topics") { Required = true },
        new("subscription_id", "the subscription read (StreamingPull); needed to read, not to write") { },
        new("topic_id", "the topic published to when the source is a sink target"),
        new("credentials", "a file holding an OAuth2 access token (else GOOGLE_OAUTH_ACCESS_TOKEN; PUBSUB_EMULATOR_HOST needs none)") { Secret = true },
        CommonSourceOptions.LateArrivalDeadline,
        CommonSourceOptions.DeadLetterQueueTopic("a topic id of the project"),
    ];

    public static GrpcChannel For(SourceDef source)
    {
        if (Environment.GetEnvironmentVariable("PUBSUB_EMULATOR_HOST") is { Length: > 0 } emulator)
            return GrpcChannel.ForAddress($"http://{emulator}");
        // credentials: a file holding an OAuth2 access token (e.g. `gcloud auth print-access-token > token`), or GOOGLE_OAUTH_ACCESS_TOKEN.
        if (source.Options.TryGetValue("credentials", out var c) && !File.Exists(c.Value))
            throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name} (pubsub): the credentials file '{c.Value}' does not exist");
        var token = c is not null ? File.ReadAllText(c.Value).Trim()
            : Environment.GetEnvironmentVariable("GOOGLE_OAUTH_ACCESS_TOKEN") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name} (pubsub): no credentials: set PUBSUB_EMULATOR_HOST, or credentials (a file holding an OAuth2 access token), or GOOGLE_OAUTH_ACCESS_TOKEN");
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add("Authorization", $"Bearer {token}");
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress("https://pubsub.googleapis.com", new GrpcChannelOptions { Credentials = ChannelCredentials.Create(new SslCredentials(), credentials) });
    }

    public static string Option(SourceDef source, string key) =>
        source.Options.TryGetValue(key, out var v) && v.Value.Length > 0 ? v.Value : throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name}: a pubsub source needs {key}");
}
