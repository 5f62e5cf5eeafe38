using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;

namespace Sluice.Sinks;

/// <summary>
/// Writing to <c>kind: recording</c> sources: sink rows go to a file in the sink folder
/// (<c>&lt;dir&gt;/&lt;target&gt;.jsonl|.arrows</c>), which replays as the next stage's input; dead letters of a recording
/// go to the dead-letter file.
/// </summary>
public sealed class RecordingTargetKind : ITargetKind
{
    /// <inheritdoc/>
    public string Name => "recording";

    /// <inheritdoc/>
    public void Validate(SourceDef target, SourceDiagnostics report) { }

    /// <inheritdoc/>
    public IBatchTarget OpenSink(SourceDef target, TargetContext context) => new FileSink(context.SinkDirectory);

    /// <inheritdoc/>
    public IBatchTarget? OpenDeadLetters(SourceDef source, TargetContext context) => null;
}
