using Apache.Arrow;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Execution;

/// <summary>The one outcome every message ends in (DESIGN.md section 4).</summary>
public enum MessageOutcome
{
    /// <summary>Its features go on to the writers.</summary>
    Written,
    /// <summary>Its headers did not match the resolver's filters.</summary>
    Filtered,
    /// <summary>Older than the source's late_arrival_deadline.</summary>
    Late,
    /// <summary>The parse expression returned None.</summary>
    Skipped,
    /// <summary>Its deduplication key was seen within the window.</summary>
    Duplicate,
    /// <summary>The payload did not parse as the message type.</summary>
    ParseFailed,
    /// <summary>Parsed, but a feature could not be computed (e.g. null into a non-nullable feature).</summary>
    Failed,
}

/// <summary>Counts of outcomes, as <c>replay --json</c> prints them per resolver.</summary>
public sealed record OutcomeCounts(long Written, long Filtered, long Late, long Skipped, long Duplicate, long ParseFailed, long Failed)
{
    /// <summary>Counts a set of outcomes.</summary>
    public static OutcomeCounts Of(IEnumerable<MessageOutcome> outcomes)
    {
        var c = new long[7];
        foreach (var o in outcomes) c[(int)o]++;
        return new OutcomeCounts(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
    }

    /// <summary>Sum of two counts.</summary>
    public static OutcomeCounts operator +(OutcomeCounts a, OutcomeCounts b) => new(a.Written + b.Written, a.Filtered + b.Filtered,
        a.Late + b.Late, a.Skipped + b.Skipped, a.Duplicate + b.Duplicate, a.ParseFailed + b.ParseFailed, a.Failed + b.Failed);

    /// <summary>No messages.</summary>
    public static OutcomeCounts Zero { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>All messages counted.</summary>
    public long Total => Written + Filtered + Late + Skipped + Duplicate + ParseFailed + Failed;
}

/// <summary>
/// What one resolver made of one message batch: an outcome (and for failures a reason) per message, and the feature
/// rows of the messages that go on: one column per fully qualified feature name plus <c>__ts__</c> (feature time).
/// </summary>
public sealed class ResolvedBatch
{
    internal ResolvedBatch(MessageBatch messages, MessageOutcome[] outcomes, string?[] reasons, RecordBatch features, int[] rowMessage, IArrowArray? deduplicationKeys,
        (IArrowArray Column, int[] Message)? parsed = null)
    {
        Parsed = parsed;
        Messages = messages;
        Outcomes = outcomes;
        Reasons = reasons;
        Features = features;
        RowMessage = rowMessage;
        DeduplicationKeys = deduplicationKeys;
    }

    /// <summary>The input batch.</summary>
    public MessageBatch Messages { get; }
    /// <summary>Outcome of each message, by message index.</summary>
    public IReadOnlyList<MessageOutcome> Outcomes { get; }
    /// <summary>Why a message was parse_failed or failed (null otherwise), by message index.</summary>
    public IReadOnlyList<string?> Reasons { get; }
    /// <summary>Feature rows: FQN columns and <c>__ts__</c>.</summary>
    public RecordBatch Features { get; }
    /// <summary>The message index of each feature row.</summary>
    public IReadOnlyList<int> RowMessage { get; }
    /// <summary>The parsed message column (the parse kernel's or parse expression's rows) and each row's message index.</summary>
    internal (IArrowArray Column, int[] Message)? Parsed { get; }

    /// <summary>The deduplication key of each feature row, when the resolver deduplicates.</summary>
    public IArrowArray? DeduplicationKeys { get; }

    /// <summary>The same batch with the feature rows flagged in <paramref name="drop"/> removed and their messages given <paramref name="outcome"/>.</summary>
    internal ResolvedBatch WithoutRows(bool[] drop, MessageOutcome outcome)
    {
        var keep = Enumerable.Range(0, drop.Length).Where(r => !drop[r]).ToList();
        if (keep.Count == drop.Length) return this;
        var outcomes = Outcomes.ToArray();
        for (int r = 0; r < drop.Length; r++) if (drop[r]) outcomes[RowMessage[r]] = outcome;
        var columns = Features.Schema.FieldsList.Select((f, i) => ResolverStep.Take(Features.Column(i), keep, TypeOf(f))).ToList();
        var features = new RecordBatch(Features.Schema, columns, keep.Count);
        var keys = DeduplicationKeys is null ? null : ResolverStep.Take(DeduplicationKeys, keep, TypeOfArray(DeduplicationKeys));
        return new ResolvedBatch(Messages, outcomes, Reasons.ToArray(), features, keep.Select(r => RowMessage[r]).ToArray(), keys, Parsed);
    }

    /// <summary>The same batch with other feature columns (same rows).</summary>
    internal ResolvedBatch WithFeatures(RecordBatch features) =>
        new(Messages, Outcomes.ToArray(), Reasons.ToArray(), features, RowMessage.ToArray(), DeduplicationKeys, Parsed);

    private static Kernels.Types.DataType TypeOf(Field f) => Kernels.Execution.ArrowValues.TypeOf(f.DataType).WithNullable(true);

    private static Kernels.Types.DataType TypeOfArray(IArrowArray a) => Kernels.Execution.ArrowValues.TypeOf(a.Data.DataType).WithNullable(true);

    /// <summary>The outcome counts of this batch.</summary>
    public OutcomeCounts Counts() => OutcomeCounts.Of(Outcomes);
}
