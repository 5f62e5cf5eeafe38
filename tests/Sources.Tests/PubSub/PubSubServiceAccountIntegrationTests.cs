using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using FluentAssertions;
using Google.Cloud.PubSub.V1;
using Google.Protobuf;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.PubSub;

/// <summary>
/// A Pub/Sub source that authenticates with a service-account key file (Google.Apis.Auth), as on Google Cloud: the key's
/// token_uri points at a loopback OAuth server that checks the signed JWT assertion and hands out short-lived tokens,
/// and the source's endpoint at the loopback Pub/Sub server, which records every call's Authorization. Tokens are
/// fetched and refreshed by the credential; a stream the server closes is reopened with a fresh token.
/// </summary>
[Collection("PUBSUB_EMULATOR_HOST")] // must be unset here: the emulator variable turns credentials off
public sealed class PubSubServiceAccountIntegrationTests : IAsyncLifetime, IDisposable
{
    private LoopbackPubSub _server = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-pubsub-sa-").FullName;
    private readonly RSA _key = RSA.Create(2048);
    private readonly HttpListener _tokens = new();
    private readonly ConcurrentQueue<JsonElement> _assertions = new();
    private int _issued;
    private Task _serving = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Environment.SetEnvironmentVariable("PUBSUB_EMULATOR_HOST", null);
        _server = await LoopbackPubSub.StartAsync();
        _tokens.Prefixes.Add($"http://127.0.0.1:{LoopbackPort.Free()}/");
        _tokens.Start();
        _serving = Task.Run(ServeTokensAsync);
    }

    public async Task DisposeAsync()
    {
        _tokens.Stop();
        await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
        await _server.DisposeAsync();
        _key.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The OAuth token endpoint of a service account: a JWT-bearer grant signed with the account's key.</summary>
    private async Task ServeTokensAsync()
    {
        while (_tokens.IsListening)
        {
            HttpListenerContext context;
            try { context = await _tokens.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            using var reader = new StreamReader(context.Request.InputStream);
            var form = System.Web.HttpUtility.ParseQueryString(await reader.ReadToEndAsync());
            var jwt = (form["assertion"] ?? "").Split('.');
            bool valid = form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer" && jwt.Length == 3 &&
                _key.VerifyData(System.Text.Encoding.ASCII.GetBytes(jwt[0] + "." + jwt[1]), Base64Url(jwt[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            if (valid) _assertions.Enqueue(JsonDocument.Parse(Base64Url(jwt[1])).RootElement.Clone());
            // Tokens that expire at once: the credential fetches a fresh one for every call.
            var body = valid ? $$"""{"access_token": "tok-{{Interlocked.Increment(ref _issued)}}", "expires_in": 1, "token_type": "Bearer"}""" : """{"error": "invalid_grant"}""";
            context.Response.StatusCode = valid ? 200 : 400;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
            context.Response.Close();
        }
    }

    public void Dispose() => ((IDisposable)_tokens).Dispose();

    private static byte[] Base64Url(string s) => Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/') + new string('=', (4 - s.Length % 4) % 4));

    [Fact]
    public async Task A_service_account_key_authenticates_every_call_with_refreshed_tokens()
    {
        var tokenUri = _tokens.Prefixes.Single() + "token";
        var keyFile = Path.Combine(_dir, "key.json");
        File.WriteAllText(keyFile, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["type"] = "service_account", ["project_id"] = "p", ["private_key_id"] = "k1", ["private_key"] = _key.ExportPkcs8PrivateKeyPem(),
            ["client_email"] = "sluice@p.iam.gserviceaccount.com", ["client_id"] = "1", ["token_uri"] = tokenUri,
        }));
        var yaml = $$"""
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              UserMessage: {id: int64, name: string}
            sources:
              users: {kind: pubsub, project_id: p, subscription_id: users-sub, credentials: "{{keyFile}}", endpoint: "http://{{_server.Host}}"}
            resolvers:
              users_from_pubsub:
                source: users
                message_type: UserMessage
                output_features: {User.user_id: _.id, User.full_name: _.name}
            """;
        var defs = DefinitionCompiler.CompileText(yaml, "pubsub.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
        _server.Data.CreateSubscription("projects/p/subscriptions/users-sub", "projects/p/topics/users");
        _server.Data.Publish("projects/p/topics/users", Enumerable.Range(1, 2000).Select(i =>
            new PubsubMessage { Data = ByteString.CopyFromUtf8(JsonSerializer.Serialize(new { id = i, name = $"user {i}" })) }));
        var subscription = _server.Data.Subscriptions["projects/p/subscriptions/users-sub"];
        var closer = Task.Run(async () =>
        {
            while (Volatile.Read(ref subscription.Deliveries) < 500) await Task.Delay(5);
            _server.Data.CloseStreams(); // the next stream is a new call: it carries a token fetched for it
        });

        var counts = await TestRuns.RunAsync(defs, TestRuns.In(_dir) with { IdleExit = TimeSpan.FromSeconds(3) },
            TestDefinitions.Connectors.With(new PubSubSourceKind(new PubSubSourceOptions { MaxOutstandingMessages = 1000, DurableWithin = TimeSpan.FromMilliseconds(200) })))
            .WaitAsync(TimeSpan.FromMinutes(2));
        await closer.WaitAsync(TimeSpan.FromSeconds(10));

        counts["users_from_pubsub"].Written.Should().Be(2000);
        (subscription.Pending.Count, subscription.Outstanding.Count).Should().Be((0, 0));
        var authorizations = _server.Data.Authorizations.ToList();
        authorizations.Should().NotBeEmpty().And.OnlyContain(a => a.StartsWith("Bearer tok-", StringComparison.Ordinal), "every call carries a token from the key's token server");
        authorizations.Distinct().Should().HaveCountGreaterThan(1, "expired tokens are refreshed, not reused");
        _server.Data.StreamsOpened.Should().BeGreaterThanOrEqualTo(2);
        var claims = _assertions.Should().NotBeEmpty().And.Subject.First();
        claims.GetProperty("iss").GetString().Should().Be("sluice@p.iam.gserviceaccount.com");
        claims.GetProperty("scope").GetString().Should().Be("https://www.googleapis.com/auth/pubsub");
        await using var store = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        (await store.GetAsync(defs.Classes.Single(), "1999")).Should().Contain("user 1999");
    }
}
