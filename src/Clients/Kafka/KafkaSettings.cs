using Confluent.Kafka;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Clients;

/// <summary>
/// The client settings of a <c>kind: kafka</c> source, from the fields users know from Chalk's KafkaSource:
/// <c>bootstrap_servers</c>, <c>topic</c>, <c>client_id_prefix</c>, <c>group_id_prefix</c> (default <c>sluice/</c>; the
/// group id is the prefix plus the resolver name), <c>security_protocol</c>, <c>sasl_mechanism</c>, <c>sasl_username</c>,
/// <c>sasl_password</c>, <c>ssl_ca_location</c>, <c>dead_letter_queue_topic</c>, and <c>additional_kafka_args</c>
/// passed through as librdkafka properties. Secrets are never part of any message this type builds.
/// </summary>
internal sealed class KafkaSettings
{
    private readonly SourceDef _source;

    private static readonly string[] SecurityProtocols = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
    private static readonly string[] SaslMechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"];

    /// <summary>The keys of a <c>kind: kafka</c> source (after the value lists they use: static fields initialize in order).</summary>
    public static IReadOnlyList<SourceOption> Options { get; } =
    [
        new("bootstrap_servers", "the brokers to bootstrap from (host:port, comma-separated)") { Required = true },
        new("topic", "the topic read (or, as a sink target, produced to)") { Required = true },
        new("client_id_prefix", "the client id's prefix; the resolver name follows") { Default = "sluice/" },
        new("group_id_prefix", "the consumer group's prefix; each resolver reads in the group prefix + its name") { Default = "sluice/" },
        new("group_instance_id", "static group membership: an id stable across restarts of one process (a StatefulSet pod's name), so that a restarted "
            + "process takes its partitions back at once instead of waiting out its old session; unique per process. Default: the environment variable "
            + "SLUICE_INSTANCE_ID when set, else none (dynamic membership)"),
        new("session_timeout_ms", "how long the group waits for a member that stopped heartbeating before its partitions move (librdkafka session.timeout.ms)",
            SourceOptionType.Integer) { Default = "45000" },
        new("security_protocol", "how clients talk to the brokers", SourceOptionType.Choice) { Values = SecurityProtocols, Default = "PLAINTEXT" },
        new("sasl_mechanism", "the SASL mechanism with SASL_PLAINTEXT or SASL_SSL", SourceOptionType.Choice) { Values = SaslMechanisms },
        new("sasl_username", "the SASL user name"),
        new("sasl_password", "the SASL password (never shown in any output)") { Secret = true },
        new("ssl_ca_location", "a CA certificate file to verify the brokers with"),
        CommonSourceOptions.LateArrivalDeadline,
        CommonSourceOptions.DeadLetterQueueTopic("a topic (on the same brokers)"),
        new("additional_kafka_args.", "any librdkafka property, passed through to every client of the source (e.g. additional_kafka_args: {session.timeout.ms: 6000}); it wins over Sluice's own settings") { Prefix = true },
    ];

    /// <summary>Reads the settings of <paramref name="source"/>; throws naming the source when it is not a usable Kafka source.</summary>
    public KafkaSettings(SourceDef source)
    {
        if (source.Kind.Value != "kafka") throw new ArgumentException($"source {source.Name} is a {source.Kind.Value} source, not kafka", nameof(source));
        _source = source;
        BootstrapServers = Option("bootstrap_servers") ?? throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name}: bootstrap_servers is required for a kafka source");
        Topic = Option("topic") ?? throw new Sluice.Pipeline.Runtime.RunSetupException($"source {source.Name}: topic is required for a kafka source");
    }

    /// <summary>The source's name in the definitions.</summary>
    public string Name => _source.Name;
    /// <summary>Brokers to bootstrap from.</summary>
    public string BootstrapServers { get; }
    /// <summary>The topic read (or, as a sink target, written).</summary>
    public string Topic { get; }
    /// <summary>Where failed messages go, if set.</summary>
    public string? DeadLetterTopic => Option("dead_letter_queue_topic");

    private string? Option(string key) => _source.Options.TryGetValue(key, out var v) && v.Value.Length > 0 ? v.Value : null;

    /// <summary>The properties every client of this source shares: brokers, security, and the pass-through arguments.</summary>
    public ClientConfig Client(string clientName)
    {
        var config = new ClientConfig { BootstrapServers = BootstrapServers, ClientId = (Option("client_id_prefix") ?? "sluice/") + clientName };
        if (Option("security_protocol") is { } protocol)
            config.SecurityProtocol = Enum.TryParse<SecurityProtocol>(protocol.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var p) ? p
                : throw new Sluice.Pipeline.Runtime.RunSetupException($"source {Name}: security_protocol '{protocol}' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL");
        if (Option("sasl_mechanism") is { } mechanism) config.Set("sasl.mechanism", mechanism);
        if (Option("sasl_username") is { } user) config.SaslUsername = user;
        if (Option("sasl_password") is { } password) config.SaslPassword = password;
        if (Option("ssl_ca_location") is { } ca) config.SslCaLocation = ca;
        foreach (var (key, value) in _source.Options)
            if (key.StartsWith("additional_kafka_args.", StringComparison.Ordinal)) config.Set(key["additional_kafka_args.".Length..], value.Value);
        return config;
    }

    /// <summary>
    /// <paramref name="defaults"/> with this source's client settings laid over them, so that what the user set
    /// (additional_kafka_args such as auto.offset.reset or session.timeout.ms included) wins over Sluice's defaults.
    /// </summary>
    public T Over<T>(T defaults, string clientName) where T : ClientConfig
    {
        foreach (var (key, value) in Client(clientName)) defaults.Set(key, value);
        return defaults;
    }

    /// <summary>The static member id (<c>group_instance_id</c>, else <c>$SLUICE_INSTANCE_ID</c>), or null for dynamic membership.</summary>
    public string? GroupInstanceId => Option("group_instance_id") ?? (Environment.GetEnvironmentVariable("SLUICE_INSTANCE_ID") is { Length: > 0 } id ? id : null);

    /// <summary>The group session timeout, when the source sets one.</summary>
    public int? SessionTimeoutMs => Option("session_timeout_ms") is { } ms ? int.Parse(ms, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>The consumer group of <paramref name="resolver"/>: the group id prefix plus its name.</summary>
    public string GroupId(ResolverPlan resolver) => (Option("group_id_prefix") ?? "sluice/") + resolver.Name;
}
