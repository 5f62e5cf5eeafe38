using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// Deduplication on DynamoDB with the contract of <see cref="IDedupStore"/> (the window in message time): one item per key
/// in a table (partition key <c>k</c>, the claiming position <c>pos</c>, its message time <c>at</c> in UTC microseconds,
/// and <c>ttl</c> in epoch seconds, the table's TTL attribute, two windows of wall-clock time after the claim so that
/// DynamoDB can delete what no decision needs). A claim is a conditional put that succeeds when the key is free or
/// held by a claim at least a window older; when it fails, a consistent read of the holder decides by
/// <see cref="DedupRule"/>: the message's own position is a redelivery, within the window a duplicate. Throttling and
/// connection errors are retried by the SDK; the work is safe to repeat.
/// </summary>
internal sealed class DynamoDedupStore : IDedupStore
{
    private readonly IAmazonDynamoDB _client;
    private readonly string _table;

    private DynamoDedupStore(IAmazonDynamoDB client, string table)
    {
        _client = client;
        _table = table;
    }

    /// <summary>
    /// Opens the store from <c>dynamodb://HOST:PORT/TABLE</c> (an endpoint such as DynamoDB Local or dynalite, plain
    /// HTTP, any credentials) or <c>dynamodb:///TABLE?region=R</c> (AWS, credentials from the environment). The table
    /// is created (on-demand capacity, TTL on <c>ttl</c>) when it does not exist.
    /// </summary>
    public static async Task<DynamoDedupStore> OpenAsync(string uri, CancellationToken cancellationToken = default)
    {
        if (!uri.StartsWith("dynamodb://", StringComparison.Ordinal) || !Uri.TryCreate(uri, UriKind.Absolute, out var u))
            throw new FormatException("a DynamoDB dedup URI is dynamodb://HOST:PORT/TABLE or dynamodb:///TABLE?region=REGION");
        var table = u.AbsolutePath.Trim('/');
        if (table.Length == 0) throw new FormatException($"{uri}: the path names the table, e.g. dynamodb://127.0.0.1:8000/sluice_dedup");
        string? region = u.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2 && p[0] == "region").Select(p => p[1]).FirstOrDefault();
        AmazonDynamoDBClient client;
        if (u.Host.Length > 0)
        {
            var config = new AmazonDynamoDBConfig
            {
                ServiceURL = $"http://{u.Host}:{(u.Port > 0 ? u.Port : 8000)}",
                AuthenticationRegion = region ?? "us-east-1",
                MaxErrorRetry = 8,
            };
            client = new AmazonDynamoDBClient(new BasicAWSCredentials("sluice", "sluice"), config);
        }
        else
        {
            client = new AmazonDynamoDBClient(new AmazonDynamoDBConfig
            {
                RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region ?? throw new FormatException($"{uri}: name the AWS region: ?region=eu-west-1")),
                MaxErrorRetry = 8,
            });
        }
        var store = new DynamoDedupStore(client, table);
        await store.EnsureTableAsync(cancellationToken);
        return store;
    }

    private async Task EnsureTableAsync(CancellationToken ct)
    {
        try
        {
            await _client.DescribeTableAsync(_table, ct);
            return;
        }
        catch (ResourceNotFoundException) { }
        try
        {
            await _client.CreateTableAsync(new CreateTableRequest
            {
                TableName = _table,
                AttributeDefinitions = [new AttributeDefinition("k", ScalarAttributeType.S)],
                KeySchema = [new KeySchemaElement("k", KeyType.HASH)],
                BillingMode = BillingMode.PAY_PER_REQUEST,
            }, ct);
        }
        catch (ResourceInUseException) { } // created meanwhile by another consumer
        for (int i = 0; i < 100; i++)
        {
            var d = await _client.DescribeTableAsync(_table, ct);
            if (d.Table.TableStatus == TableStatus.ACTIVE) break;
            await Task.Delay(100, ct);
        }
        try
        {
            await _client.UpdateTimeToLiveAsync(new UpdateTimeToLiveRequest
            {
                TableName = _table,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = "ttl", Enabled = true },
            }, ct);
        }
        catch (AmazonDynamoDBException) { } // emulators without TTL support: the condition checks ttl anyway
    }

    /// <inheritdoc/>
    public async Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        // Keys are claimed concurrently; the claims of one key in the order given, so that a batch's duplicates resolve within it.
        var keep = new bool[claims.Count];
        await Task.WhenAll(Enumerable.Range(0, claims.Count).GroupBy(i => claims[i].Key, StringComparer.Ordinal).Select(async key =>
        {
            foreach (int i in key) keep[i] = await ClaimOneAsync(claims[i], cancellationToken);
        }));
        return keep;
    }

    /// <summary>
    /// One claim, decided by <see cref="DedupRule"/> in message time: a conditional put takes the key when it is free or
    /// its claim is older than this one by the window or more; otherwise a consistent read of the holder decides.
    /// </summary>
    private async Task<bool> ClaimOneAsync(DedupClaim claim, CancellationToken ct)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // The attribute DynamoDB expires items by (wall clock): long enough for any message-time decision of a live stream.
        long expires = now + Math.Max(1, 2 * claim.WindowMicros / 1_000_000);
        try
        {
            await _client.PutItemAsync(new PutItemRequest
            {
                TableName = _table,
                Item = new Dictionary<string, AttributeValue>
                {
                    ["k"] = new() { S = claim.Key },
                    ["pos"] = new() { S = claim.Position },
                    ["at"] = new() { N = claim.MessageMicros.ToString(CultureInfo.InvariantCulture) },
                    ["ttl"] = new() { N = expires.ToString(CultureInfo.InvariantCulture) },
                },
                // Free, or held by a claim at least a window older in message time (a claim of the earlier layout,
                // without "at", held until its wall-clock ttl).
                ConditionExpression = "attribute_not_exists(k) OR #at <= :older OR (attribute_not_exists(#at) AND #ttl < :now)",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#at"] = "at", ["#ttl"] = "ttl" },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue>
                {
                    [":older"] = new() { N = (claim.MessageMicros - claim.WindowMicros).ToString(CultureInfo.InvariantCulture) },
                    [":now"] = new() { N = now.ToString(CultureInfo.InvariantCulture) },
                },
            }, ct);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            var held = await _client.GetItemAsync(new GetItemRequest
            {
                TableName = _table,
                Key = new Dictionary<string, AttributeValue> { ["k"] = new() { S = claim.Key } },
                ConsistentRead = true,
            }, ct);
            if (held.Item is not { } item || !item.TryGetValue("pos", out var pos)) return true; // expired meanwhile
            if (!item.TryGetValue("at", out var at)) return pos.S == claim.Position; // the earlier layout: held until its ttl
            // Not replaced by the put: the holder is this message (a redelivery), within the window, or newer.
            return DedupRule.Decide(pos.S, long.Parse(at.N, CultureInfo.InvariantCulture), claim).Keep;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
