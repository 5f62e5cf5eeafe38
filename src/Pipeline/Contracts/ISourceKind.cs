using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// A kind of source (<c>kind: kafka</c>, <c>kinesis</c>, <c>pubsub</c>, <c>recording</c>): the keys a definition may
/// give it, the checks of their values (at compile time, each error with its SLU code and file:line:col), and how to
/// read it. Registered once in the connectors (<see cref="Runtime.Connectors"/>); the compiler and the runtime find it
/// by name. Writing to a source (as a sink target or a dead-letter target) is an <see cref="ITargetKind"/>.
/// </summary>
public interface ISourceKind
{
    /// <summary>The name definitions use (<c>kind: kafka</c>).</summary>
    string Name { get; }

    /// <summary>Every key a source of this kind accepts, with its type, default and meaning.</summary>
    IReadOnlyList<SourceOption> Options { get; }

    /// <summary>Whether <c>sluice run</c> serves it (a live stream), as opposed to a file that <c>replay</c> reads.</summary>
    bool Live { get; }

    /// <summary>
    /// Whether every resolver reads the source on its own (its own consumer group, checkpoints or subscription), or the
    /// resolvers of one source share one read (a recording: header filters route its messages).
    /// </summary>
    bool ReaderPerResolver { get; }

    /// <summary>
    /// Checks what reading needs beyond the option table (combinations, formats), for a source that a resolver reads;
    /// called once the table's own checks passed.
    /// </summary>
    void Validate(SourceDef source, SourceDiagnostics report);

    /// <summary>Opens a reader of <paramref name="source"/> for <paramref name="resolvers"/> (one, when <see cref="ReaderPerResolver"/>).</summary>
    IMessageSource Open(SourceDef source, IReadOnlyList<ResolverPlan> resolvers, SourceContext context);

    /// <summary>
    /// What <c>sluice record</c> copies: the messages <paramref name="source"/> holds, read without moving any resolver's
    /// position (no commits, no checkpoints), with their positions, keys, timestamps and headers.
    /// </summary>
    IAsyncEnumerable<MessageBatch> RecordAsync(SourceDef source, RecordOptions options, CancellationToken stop);
}

/// <summary>What <see cref="ISourceKind.RecordAsync"/> reads.</summary>
public sealed record RecordOptions
{
    /// <summary>Start at the oldest message the source holds (else new messages only).</summary>
    public bool FromBeginning { get; init; }
    /// <summary>Stop after this many messages; null: no limit.</summary>
    public long? MaxMessages { get; init; }
    /// <summary>Stop once nothing arrived for this long; null: the kind's own rule (until stopped, or until caught up).</summary>
    public TimeSpan? IdleExit { get; init; }
}

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

/// <summary>Where a source kind reports what is wrong with a source's options.</summary>
public sealed class SourceDiagnostics(Action<string, string, SourceLocation> report)
{
    /// <summary>Reports an error with its code (<see cref="DefinitionErrorCodes"/>), message and location.</summary>
    public void Error(string code, string message, SourceLocation at) => report(code, message, at);
}

/// <summary>What a reader is opened with, the same for every kind.</summary>
public sealed record SourceContext
{
    /// <summary>End the read once every partition (shard, subscription) was read to its end and nothing new arrived for this long; null: until stopped.</summary>
    public TimeSpan? IdleExit { get; init; }
    /// <summary>Stop after this many messages (benchmarks read a topic of known size); null: no limit.</summary>
    public long? MaxMessages { get; init; }
    /// <summary>The folder for the source's own durable state (Kinesis checkpoints).</summary>
    public string StateDirectory { get; init; } = ".sluice";
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
