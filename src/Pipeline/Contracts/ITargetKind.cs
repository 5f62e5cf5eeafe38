using Sluice.Pipeline.Definitions;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// Writing to a kind of source: as the target of a resolver's sink (<c>sink: {send_to: S}</c>), and as the dead-letter
/// target its sources name (<c>dead_letter_queue_topic</c>). Any resolver may sink to any kind that has one, whatever
/// it reads from; a combination a kind cannot take is reported at compile time by <see cref="Validate"/>.
/// </summary>
public interface ITargetKind
{
    /// <summary>The source kind it writes to (<c>kafka</c>).</summary>
    string Name { get; }

    /// <summary>Checks that <paramref name="target"/> can take sink rows (e.g. a Pub/Sub source needs a <c>topic_id</c> to publish to).</summary>
    void Validate(SourceDef target, SourceDiagnostics report);

    /// <summary>A target that writes sink rows (<see cref="SinkRecords"/>) to <paramref name="target"/>.</summary>
    IBatchTarget OpenSink(SourceDef target, TargetContext context);

    /// <summary>The dead-letter target that <paramref name="source"/> names, or null when it names none (its dead letters then go to the file).</summary>
    IBatchTarget? OpenDeadLetters(SourceDef source, TargetContext context);
}

/// <summary>What targets are opened with.</summary>
public sealed record TargetContext
{
    /// <summary>Where sinks to file targets write (<c>&lt;dir&gt;/&lt;target&gt;.jsonl|.arrows</c>).</summary>
    public string SinkDirectory { get; init; } = ".sluice/sinks";
}
