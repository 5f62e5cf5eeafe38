namespace Sluice;

/// <summary>Kafka topics as sources and sink targets.</summary>
public static class Kafka
{
    /// <summary>A Kafka topic; <paramref name="options"/> takes the other YAML keys (<c>late_arrival_deadline</c>, <c>group_id_prefix</c>, ...).</summary>
    public static SourceRef Topic(string topic, string bootstrapServers, IReadOnlyDictionary<string, string>? options = null, string? name = null) =>
        new(name ?? topic, "kafka", new Dictionary<string, string>(options ?? new Dictionary<string, string>()) { ["topic"] = topic, ["bootstrap_servers"] = bootstrapServers });
}

/// <summary>Recording files as sources.</summary>
public static class Recordings
{
    /// <summary>A <c>.jsonl</c> or <c>.arrows</c> recording.</summary>
    public static SourceRef File(string path, IReadOnlyDictionary<string, string>? options = null, string? name = null) =>
        new(name ?? Path.GetFileNameWithoutExtension(path), "recording", new Dictionary<string, string>(options ?? new Dictionary<string, string>()) { ["path"] = path });
}

/// <summary>Kinesis streams as sources and sink targets.</summary>
public static class Kinesis
{
    /// <summary>
    /// A Kinesis stream; <paramref name="endpointUrl"/> for a local endpoint (kinesalite), else the region's AWS endpoint;
    /// <paramref name="options"/> takes the other YAML keys (<c>start_position</c>, <c>aws_access_key_id</c>, ...).
    /// </summary>
    public static SourceRef Stream(string streamName, string? region = null, string? endpointUrl = null, IReadOnlyDictionary<string, string>? options = null,
        string? name = null)
    {
        var all = new Dictionary<string, string>(options ?? new Dictionary<string, string>()) { ["stream_name"] = streamName };
        if (region is not null) all["region_name"] = region;
        if (endpointUrl is not null) all["endpoint_url"] = endpointUrl;
        return new(name ?? streamName, "kinesis", all);
    }
}

/// <summary>Pub/Sub subscriptions as sources and topics as sink targets.</summary>
public static class PubSub
{
    /// <summary>A subscription to read; <paramref name="options"/> takes the other YAML keys (<c>topic_id</c> to publish to it as a sink target, ...).</summary>
    public static SourceRef Subscription(string projectId, string subscriptionId, IReadOnlyDictionary<string, string>? options = null, string? name = null) =>
        new(name ?? subscriptionId, "pubsub", new Dictionary<string, string>(options ?? new Dictionary<string, string>())
            { ["project_id"] = projectId, ["subscription_id"] = subscriptionId });

    /// <summary>A topic to publish sink rows to.</summary>
    public static SourceRef Topic(string projectId, string topicId, string? name = null) =>
        new(name ?? topicId, "pubsub", new Dictionary<string, string> { ["project_id"] = projectId, ["topic_id"] = topicId });
}
