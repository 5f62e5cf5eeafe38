using System.Net.Http.Headers;
using Google.Apis.Auth.OAuth2;
using Grpc.Core;
using Grpc.Net.Client;
using Polly;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Runtime;

namespace Sluice.Clients;

/// <summary>
/// The gRPC channel of a Pub/Sub source: <c>PUBSUB_EMULATOR_HOST</c> (plain text, no credentials), or the endpoint
/// (Google's by default) with a bearer token on every call from Google.Apis.Auth: the <c>credentials</c> file (a
/// service-account key or any credential JSON gcloud writes), else application default credentials
/// (<c>GOOGLE_APPLICATION_CREDENTIALS</c>, gcloud's ADC file, the metadata server on GCE, GKE and Cloud Run). Tokens
/// are refreshed before they expire. A static token (a file holding only a token, or <c>GOOGLE_OAUTH_ACCESS_TOKEN</c>)
/// is sent as is.
/// </summary>
internal static class PubSubChannels
{
    /// <summary>The OAuth scope Pub/Sub calls need.</summary>
    public const string Scope = "https://www.googleapis.com/auth/pubsub";

    /// <summary>The keys of a <c>kind: pubsub</c> source.</summary>
    public static IReadOnlyList<SourceOption> Options { get; } =
    [
        new("project_id", "the Google Cloud project of the subscription and topics") { Required = true },
        new("subscription_id", "the subscription read (StreamingPull); needed to read, not to write") { },
        new("topic_id", "the topic published to when the source is a sink target"),
        new("credentials", "a credential JSON file (service-account key, gcloud's ADC file) or a file holding an OAuth2 access token; else GOOGLE_OAUTH_ACCESS_TOKEN, else application default credentials; PUBSUB_EMULATOR_HOST needs none") { Secret = true },
        new("endpoint", "the Pub/Sub API endpoint (default https://pubsub.googleapis.com; a regional or private one, e.g. https://us-east1-pubsub.googleapis.com)"),
        CommonSourceOptions.LateArrivalDeadline,
        CommonSourceOptions.DeadLetterQueueTopic("a topic id of the project"),
    ];

    public static GrpcChannel For(SourceDef source)
    {
        if (Environment.GetEnvironmentVariable("PUBSUB_EMULATOR_HOST") is { Length: > 0 } emulator)
            return GrpcChannel.ForAddress($"http://{emulator}");
        var endpoint = source.Options.TryGetValue("endpoint", out var e) && e.Value.Length > 0 ? e.Value : "https://pubsub.googleapis.com";
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
            throw new RunSetupException($"source {source.Name} (pubsub): endpoint '{endpoint}' is not an http(s) URL");
        var tokens = Credentials(source);
        var handler = new BearerTokenHandler(tokens) { InnerHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } };
        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>Where the source's tokens come from; a source without any is one line at start (exit 2).</summary>
    internal static ITokenAccess Credentials(SourceDef source)
    {
        RunSetupException Fail(string why) => new($"source {source.Name} (pubsub): {why}");
        if (source.Options.TryGetValue("credentials", out var c))
        {
            if (!File.Exists(c.Value)) throw Fail($"the credentials file '{c.Value}' does not exist");
            var text = File.ReadAllText(c.Value).Trim();
            if (!text.StartsWith('{')) return new StaticToken(text);
            try
            {
                var type = System.Text.Json.JsonDocument.Parse(text).RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
                GoogleCredential credential = type switch
                {
                    "service_account" => CredentialFactory.FromJson<ServiceAccountCredential>(text).ToGoogleCredential(),
                    "authorized_user" => CredentialFactory.FromJson<UserCredential>(text).ToGoogleCredential(),
                    "impersonated_service_account" => CredentialFactory.FromJson<ImpersonatedCredential>(text).ToGoogleCredential(),
                    _ => throw Fail($"the credentials file '{c.Value}' has type '{type}'; expected service_account, authorized_user or impersonated_service_account (point GOOGLE_APPLICATION_CREDENTIALS at other kinds, e.g. workload identity federation's external_account)"),
                };
                return credential.CreateScoped(Scope);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException or Newtonsoft.Json.JsonException or System.Text.Json.JsonException)
            {
                throw Fail($"the credentials file '{c.Value}' is not a credential Google.Apis.Auth reads ({ex.Message})");
            }
        }
        if (Environment.GetEnvironmentVariable("GOOGLE_OAUTH_ACCESS_TOKEN") is { Length: > 0 } token) return new StaticToken(token);
        try
        {
            return GoogleCredential.GetApplicationDefaultAsync().GetAwaiter().GetResult().CreateScoped(Scope);
        }
        catch (InvalidOperationException ex)
        {
            throw Fail("no credentials: set credentials (a service-account key file), GOOGLE_APPLICATION_CREDENTIALS, " +
                $"GOOGLE_OAUTH_ACCESS_TOKEN or PUBSUB_EMULATOR_HOST, or run where application default credentials exist ({ex.Message.Split('\n')[0]})");
        }
    }

    private sealed class StaticToken(string token) : ITokenAccess
    {
        public Task<string> GetAccessTokenForRequestAsync(string? authUri = null, CancellationToken cancellationToken = default) => Task.FromResult(token);
    }

    /// <summary>Adds the current token to every call (a gRPC call is one HTTP/2 request); the credential refreshes it.</summary>
    private sealed class BearerTokenHandler(ITokenAccess tokens) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            string token;
            try { token = await tokens.GetAccessTokenForRequestAsync(request.RequestUri?.ToString(), cancellationToken); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A token that cannot be had is the call's failure, with the reason (gRPC makes it UNAVAILABLE/INTERNAL).
                throw new HttpRequestException($"could not get a Google access token: {e.Message}", e);
            }
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Status codes that a retry or a new stream may get past (Google's client libraries retry the same ones).</summary>
    public static bool Transient(StatusCode code) =>
        code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Aborted or StatusCode.ResourceExhausted;

    /// <summary>
    /// Unary calls (Publish, Acknowledge) that fail transiently: up to 8 retries, jittered exponential backoff from
    /// 100 ms, at most 10 s apart, each counted in <c>sluice.retries{component=pubsub}</c>.
    /// </summary>
    public static ResiliencePipeline Retry { get; } =
        Retries.Backoff(new PredicateBuilder().Handle<RpcException>(e => Transient(e.StatusCode)), TimeSpan.FromSeconds(10), "pubsub");

    public static string Option(SourceDef source, string key) =>
        source.Options.TryGetValue(key, out var v) && v.Value.Length > 0 ? v.Value : throw new RunSetupException($"source {source.Name}: a pubsub source needs {key}");
}
