using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Internal.Auth;
using Polly;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Clients;

/// <summary>A shard as ListShards describes it.</summary>
internal sealed record KinesisShard(string ShardId, string? ParentShardId, string? AdjacentParentShardId)
{
    /// <summary>The shard's number (<c>shardId-000000000007</c> is 7): its partition in positions, stable across runs.</summary>
    public int Ordinal => int.Parse(ShardId[(ShardId.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);
}

/// <summary>One record as GetRecords returns it.</summary>
internal sealed record KinesisRecord(string SequenceNumber, byte[] Data, string PartitionKey, DateTime ApproximateArrivalTimestamp);

/// <summary>A Kinesis error response (<c>__type</c> and message).</summary>
internal sealed class KinesisException(string type, string message, bool serverError = false) : Exception($"{type}: {message}")
{
    /// <summary>The service's error type, e.g. <c>ResourceNotFoundException</c>.</summary>
    public string Type { get; } = type;
    /// <summary>Whether the request was throttled (retried with backoff).</summary>
    public bool Throttled => Type.Contains("ProvisionedThroughputExceeded", StringComparison.Ordinal) || Type.Contains("LimitExceeded", StringComparison.Ordinal);
    /// <summary>Whether a retry may succeed: throttling or a 5xx answer.</summary>
    public bool Transient => Throttled || serverError;
}

/// <summary>
/// The Kinesis JSON API over HTTP (the vendor SDK is not served here), each request signed with SigV4 through
/// AWSSDK.Core's signer. Throttling, 5xx responses and failed connections are retried with jittered backoff; other
/// errors are thrown with the service's type and message.
/// </summary>
internal sealed class KinesisClient : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri _endpoint;
    private readonly string _region;
    // Refreshing credentials (an assumed role, web identity, a container or instance role) renew themselves before they
    // expire when asked for their current keys, which every request does.
    private readonly AWSCredentials _credentials;

    public KinesisClient(Uri endpoint, string region, string accessKey, string secretKey)
        : this(endpoint, region, new BasicAWSCredentials(accessKey, secretKey)) { }

    public KinesisClient(Uri endpoint, string region, AWSCredentials credentials)
    {
        _endpoint = endpoint;
        _region = region;
        _credentials = credentials;
    }

    /// <summary>The keys of a <c>kind: kinesis</c> source.</summary>
    public static IReadOnlyList<SourceOption> Options { get; } =
    [
        new("stream_name", "the stream read (or, as a sink target, put to)") { Required = true },
        new("region_name", "the AWS region (else AWS_REGION)") { Default = "us-east-1" },
        new("endpoint_url", "the endpoint (e.g. a local kinesalite); else the region's AWS endpoint"),
        new("aws_access_key_id", "the access key (else AWS's standard credential chain: AWS_* environment with AWS_SESSION_TOKEN, profiles and SSO, web identity, the container or instance role)"),
        new("aws_secret_access_key", "the secret key of aws_access_key_id (never shown in any output)") { Secret = true },
        new("start_position", "where a shard without a checkpoint starts: its oldest record or new records only", SourceOptionType.Choice)
            { Values = ["TRIM_HORIZON", "LATEST"], Default = "TRIM_HORIZON" },
        CommonSourceOptions.LateArrivalDeadline,
        CommonSourceOptions.DeadLetterQueueTopic("a stream"),
    ];

    /// <summary>
    /// The client a source's options describe: <c>endpoint_url</c>, <c>region_name</c>, and credentials: the keys of
    /// the options when given, else AWS's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
    /// web identity (EKS), SSO and other profiles, the ECS task role, the EC2 instance role). A loopback endpoint
    /// (kinesalite, LocalStack) without keys in the options signs with the AWS_* keys or placeholders, which such servers accept.
    /// </summary>
    public static KinesisClient For(SourceDef source)
    {
        string? Option(string key) => source.Options.TryGetValue(key, out var v) && v.Value.Length > 0 ? v.Value : null;
        var region = Option("region_name") ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? "us-east-1";
        var endpoint = new Uri(Option("endpoint_url") ?? $"https://kinesis.{region}.amazonaws.com");
        if (Option("aws_access_key_id") is { } key)
            return new KinesisClient(endpoint, region, new BasicAWSCredentials(key, Option("aws_secret_access_key")
                ?? throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name} (kinesis): aws_access_key_id is given without aws_secret_access_key")));
        // A local emulator: the AWS_* keys when set, else placeholders (never the instance-metadata lookup of the chain).
        if (endpoint.IsLoopback)
            return new KinesisClient(endpoint, region, new BasicAWSCredentials(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? "sluice",
                Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? "sluice"));
        try
        {
            return new KinesisClient(endpoint, region, DefaultAWSCredentialsIdentityResolver.GetCredentials());
        }
        catch (AmazonClientException e)
        {
            throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name} (kinesis): no AWS credentials found (options aws_access_key_id and "
                + "aws_secret_access_key, the AWS_* environment, a profile, web identity, or a container or instance role): "
                + string.Join(" ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), e);
        }
    }

    /// <summary>Throttling, a 5xx and a failed connection: up to 8 retries, jittered exponential backoff from 100 ms, at most 5 s apart.</summary>
    private static readonly ResiliencePipeline Retry =
        Retries.Backoff(new PredicateBuilder().Handle<HttpRequestException>().Handle<KinesisException>(e => e.Transient), TimeSpan.FromSeconds(5), "kinesis");

    /// <summary>PutRecords' records that the service refused (the call itself succeeded and retried on its own): the same backoff.</summary>
    private static readonly ResiliencePipeline RefusedRecordsRetry =
        Retries.Backoff(new PredicateBuilder().Handle<KinesisException>(e => e.Type == RefusedRecords), TimeSpan.FromSeconds(5), component: null);

    private const string RefusedRecords = "PutRecordsFailed";

    public async Task<JsonNode?> CallAsync(string action, JsonObject body, CancellationToken ct)
    {
        var payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        return await Retry.ExecuteAsync(async token =>
        {
            using var request = Sign(action, payload, await _credentials.GetCredentialsAsync().ConfigureAwait(false));
            using var response = await _http.SendAsync(request, token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return text.Length == 0 ? null : JsonNode.Parse(text);
            JsonNode? error = null;
            try { error = JsonNode.Parse(text.Length == 0 ? "{}" : text); }
            catch (System.Text.Json.JsonException) { } // an HTML error page from a proxy
            var type = error?["__type"]?.GetValue<string>() ?? response.StatusCode.ToString();
            throw new KinesisException(type[(type.LastIndexOf('#') + 1)..], error?["message"]?.GetValue<string>() ?? error?["Message"]?.GetValue<string>() ?? text,
                serverError: (int)response.StatusCode >= 500);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>A SigV4-signed request; temporary credentials add their session token as X-Amz-Security-Token (signed).</summary>
    internal HttpRequestMessage Sign(string action, byte[] payload, ImmutableCredentials credentials)
    {
        var now = DateTime.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var target = "Kinesis_20131202." + action;
        var host = _endpoint.IsDefaultPort ? _endpoint.Host : $"{_endpoint.Host}:{_endpoint.Port}";
        var token = credentials.UseToken ? credentials.Token : null;
        var signedHeaders = token is null ? "content-type;host;x-amz-date;x-amz-target" : "content-type;host;x-amz-date;x-amz-security-token;x-amz-target";
        var canonicalHeaders = $"content-type:application/x-amz-json-1.1\nhost:{host}\nx-amz-date:{amzDate}\n"
            + (token is null ? "" : $"x-amz-security-token:{token}\n") + $"x-amz-target:{target}\n";
        var canonical = $"POST\n/\n\n{canonicalHeaders}\n{signedHeaders}\n{Convert.ToHexStringLower(SHA256.HashData(payload))}";
        var signature = AWS4Signer.ComputeSignature(credentials.AccessKey, credentials.SecretKey, _region, now, "kinesis", signedHeaders, canonical);
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", amzDate);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        if (token is not null) request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        request.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
        return request;
    }

    public async Task CreateStreamAsync(string stream, int shards, CancellationToken ct)
    {
        await CallAsync("CreateStream", new JsonObject { ["StreamName"] = stream, ["ShardCount"] = shards }, ct).ConfigureAwait(false);
        await WaitActiveAsync(stream, ct).ConfigureAwait(false);
    }

    public async Task WaitActiveAsync(string stream, CancellationToken ct)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); ;)
        {
            var d = await CallAsync("DescribeStreamSummary", new JsonObject { ["StreamName"] = stream }, ct).ConfigureAwait(false);
            if (d?["StreamDescriptionSummary"]?["StreamStatus"]?.GetValue<string>() == "ACTIVE") return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Kinesis stream {stream} did not become ACTIVE");
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    public async Task<List<KinesisShard>> ListShardsAsync(string stream, CancellationToken ct)
    {
        var shards = new List<KinesisShard>();
        string? token = null;
        do
        {
            var body = token is null ? new JsonObject { ["StreamName"] = stream } : new JsonObject { ["NextToken"] = token };
            var r = await CallAsync("ListShards", body, ct).ConfigureAwait(false);
            foreach (var s in r?["Shards"]?.AsArray() ?? [])
                shards.Add(new KinesisShard(s!["ShardId"]!.GetValue<string>(), s["ParentShardId"]?.GetValue<string>(), s["AdjacentParentShardId"]?.GetValue<string>()));
            token = r?["NextToken"]?.GetValue<string>();
        } while (token is not null);
        return shards;
    }

    public async Task<string> GetShardIteratorAsync(string stream, string shardId, string type, string? sequenceNumber, CancellationToken ct)
    {
        var body = new JsonObject { ["StreamName"] = stream, ["ShardId"] = shardId, ["ShardIteratorType"] = type };
        if (sequenceNumber is not null) body["StartingSequenceNumber"] = sequenceNumber;
        var r = await CallAsync("GetShardIterator", body, ct).ConfigureAwait(false);
        return r!["ShardIterator"]!.GetValue<string>();
    }

    public async Task<(List<KinesisRecord> Records, string? Next, long MillisBehind)> GetRecordsAsync(string iterator, int limit, CancellationToken ct)
    {
        var r = await CallAsync("GetRecords", new JsonObject { ["ShardIterator"] = iterator, ["Limit"] = limit }, ct).ConfigureAwait(false);
        var records = new List<KinesisRecord>();
        foreach (var x in r?["Records"]?.AsArray() ?? [])
            records.Add(new KinesisRecord(x!["SequenceNumber"]!.GetValue<string>(), Convert.FromBase64String(x["Data"]!.GetValue<string>()),
                x["PartitionKey"]!.GetValue<string>(), DateTime.UnixEpoch.AddTicks((long)(x["ApproximateArrivalTimestamp"]!.GetValue<double>() * TimeSpan.TicksPerSecond))));
        return (records, r?["NextShardIterator"]?.GetValue<string>(), r?["MillisBehindLatest"]?.GetValue<long>() ?? 0);
    }

    /// <summary>Puts records (up to 500 per call), retrying the ones the service refused (with the same backoff) until all are in.</summary>
    public async Task PutRecordsAsync(string stream, IReadOnlyList<(byte[] Data, string PartitionKey)> records, CancellationToken ct)
    {
        for (int start = 0; start < records.Count; start += 500)
        {
            var pending = records.Skip(start).Take(500).ToList();
            await RefusedRecordsRetry.ExecuteAsync(async token =>
            {
                var entries = new JsonArray(pending.Select(p => (JsonNode)new JsonObject { ["Data"] = Convert.ToBase64String(p.Data), ["PartitionKey"] = p.PartitionKey }).ToArray());
                var r = await CallAsync("PutRecords", new JsonObject { ["StreamName"] = stream, ["Records"] = entries }, token).ConfigureAwait(false);
                if ((r?["FailedRecordCount"]?.GetValue<int>() ?? 0) == 0) return;
                var results = r!["Records"]!.AsArray();
                pending = pending.Where((_, i) => results[i]?["ErrorCode"] is not null).ToList();
                throw new KinesisException(RefusedRecords, $"{pending.Count} record(s) still refused by stream {stream} after retries");
            }, ct).ConfigureAwait(false);
        }
    }

    public Task SplitShardAsync(string stream, string shardId, string newStartingHashKey, CancellationToken ct) =>
        CallAsync("SplitShard", new JsonObject { ["StreamName"] = stream, ["ShardToSplit"] = shardId, ["NewStartingHashKey"] = newStartingHashKey }, ct);

    public void Dispose() => _http.Dispose();
}
