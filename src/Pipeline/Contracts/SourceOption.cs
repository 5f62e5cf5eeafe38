namespace Sluice.Pipeline.Contracts;

/// <summary>The type of a source option's value, checked at compile time.</summary>
public enum SourceOptionType
{
    /// <summary>Any text.</summary>
    Text,
    /// <summary>One of <see cref="SourceOption.Values"/> (case-insensitive).</summary>
    Choice,
    /// <summary>A duration: <c>30s</c>, <c>15m</c>, <c>1h</c>, <c>7d</c>.</summary>
    Duration,
    /// <summary>A whole number.</summary>
    Integer,
}

/// <summary>One key of a source kind.</summary>
/// <param name="Key">The key as written in YAML (<c>bootstrap_servers</c>); with <see cref="Prefix"/>, a prefix of keys (<c>additional_kafka_args.</c>).</param>
/// <param name="Description">What it means, for docs and errors.</param>
/// <param name="Type">How its value is checked.</param>
public sealed record SourceOption(string Key, string Description, SourceOptionType Type = SourceOptionType.Text)
{
    /// <summary>A source of the kind must give it.</summary>
    public bool Required { get; init; }
    /// <summary>The value used when it is not given (for docs), if any.</summary>
    public string? Default { get; init; }
    /// <summary>The accepted values of a <see cref="SourceOptionType.Choice"/>.</summary>
    public IReadOnlyList<string> Values { get; init; } = [];
    /// <summary>The key is a prefix: <c>additional_kafka_args.session.timeout.ms</c> is one of <c>additional_kafka_args.</c>.</summary>
    public bool Prefix { get; init; }
    /// <summary>A secret: never shown in any output.</summary>
    public bool Secret { get; init; }
}

/// <summary>The keys every source kind shares.</summary>
public static class CommonSourceOptions
{
    /// <summary><c>late_arrival_deadline</c>: messages older than this when read are counted late and dropped before parsing.</summary>
    public static SourceOption LateArrivalDeadline { get; } = new("late_arrival_deadline",
        "messages older than this when read (by their timestamp) are counted late and dropped before parsing", SourceOptionType.Duration) { Default = "none" };

    /// <summary><c>dead_letter_queue_topic</c>: where failed messages go (<paramref name="what"/> says what it names for the kind).</summary>
    public static SourceOption DeadLetterQueueTopic(string what) => new("dead_letter_queue_topic",
        $"{what} that failed messages go to, with sluice-error, sluice-resolver and sluice-source; without it they go to the dead-letter file");
}
