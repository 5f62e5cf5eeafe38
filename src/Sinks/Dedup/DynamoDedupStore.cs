using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// Deduplication on DynamoDB with the semantics of <see cref="RedisDedupStore"/>: one item per key in a table
/// (partition key <c>k</c>, the claiming position <c>pos</c>, and <c>ttl</c> in epoch seconds, the table's TTL attribute).
/// A claim is a conditional put that succeeds when the key is new or its claim has expired (DynamoDB deletes expired
/// items lazily, so the condition checks <c>ttl</c> itself); when it fails, a consistent read of the holder tells a
/// redelivery (the message's own position: it goes on) from a duplicate. Within a batch one request per key is sent
/// (the first claim's); every claim of that key then goes on exactly when the key is held by its own position.
/// Throttling and connection errors are retried by the SDK; the work is safe to repeat.
/// </summary>
public sealed class DynamoDedupStore : IDedupStore
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
        var keep = new bool[claims.Count];
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        var sent = new List<int>();
        for (int i = 0; i < claims.Count; i++)
            if (first.TryAdd(claims[i].Key, i)) sent.Add(i);
        var holders = await Task.WhenAll(sent.Select(i => ClaimOneAsync(claims[i], cancellationToken)));
        var holder = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (int s = 0; s < sent.Count; s++) holder[claims[sent[s]].Key] = holders[s];
        for (int i = 0; i < claims.Count; i++) keep[i] = holder[claims[i].Key] == claims[i].Position;
        return keep;
    }

    /// <summary>Claims the key; returns the position that holds it afterwards (this claim's when it won).</summary>
    private async Task<string?> ClaimOneAsync(DedupClaim claim, CancellationToken ct)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long expires = now + Math.Max(1, claim.WindowMicros / 1_000_000);
        try
        {
            await _client.PutItemAsync(new PutItemRequest
            {
                TableName = _table,
                Item = new Dictionary<string, AttributeValue>
                {
                    ["k"] = new() { S = claim.Key },
                    ["pos"] = new() { S = claim.Position },
                    ["ttl"] = new() { N = expires.ToString(CultureInfo.InvariantCulture) },
                },
                ConditionExpression = "attribute_not_exists(k) OR #ttl < :now",
                ExpressionAttributeNames = new Dictionary<string, string> { ["#ttl"] = "ttl" },
                ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":now"] = new() { N = now.ToString(CultureInfo.InvariantCulture) } },
            }, ct);
            return claim.Position;
        }
        catch (ConditionalCheckFailedException)
        {
            var held = await _client.GetItemAsync(new GetItemRequest
            {
                TableName = _table,
                Key = new Dictionary<string, AttributeValue> { ["k"] = new() { S = claim.Key } },
                ConsistentRead = true,
            }, ct);
            return held.Item is { } item && item.TryGetValue("pos", out var pos) ? pos.S : null;
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
