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
