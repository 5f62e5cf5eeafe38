using System.Runtime.CompilerServices;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources;

/// <summary>
/// <c>kind: recording</c>: a recording file (<c>.jsonl</c> or <c>.arrows</c>, <see cref="RecordingFile"/>) read once to
/// its end by all the resolvers of the source together; header filters route its messages. As a sink target it is a
/// file in the sink folder.
/// </summary>
public sealed class RecordingSourceKind : ISourceKind
{
    /// <summary>The kind's name.</summary>
    public const string KindName = "recording";

    /// <inheritdoc/>
    public string Name => KindName;

    /// <inheritdoc/>
    public IReadOnlyList<SourceOption> Options { get; } =
    [
        new("path", "the recording file (.jsonl or .arrows)") { Required = true },
        CommonSourceOptions.LateArrivalDeadline,
    ];

    /// <inheritdoc/>
    public bool Live => false;
    /// <inheritdoc/>
    public bool ReaderPerResolver => false;

    /// <summary>The path must name a recording format.</summary>
    public void Validate(SourceDef source, SourceDiagnostics report)
    {
        var path = source.Options["path"];
        if (!RecordingFile.IsRecording(path.Value))
            report.Error(DefinitionErrorCodes.InvalidOptionValue, $"path '{path.Value}' is not a recording: it must end in .jsonl or .arrows", path.Location);
    }

    /// <inheritdoc/>
    public IMessageSource Open(SourceDef source, IReadOnlyList<ResolverPlan> resolvers, SourceContext context) =>
        new RecordingSource([source.Options["path"].Value]);

    /// <summary>Copies the file (e.g. a .jsonl recording into an .arrows one).</summary>
    public IAsyncEnumerable<MessageBatch> RecordAsync(SourceDef source, RecordOptions options, CancellationToken stop) =>
        Limit(RecordingFile.ReadAsync(source.Options["path"].Value, 4096, stop), options.MaxMessages, stop);

    private static async IAsyncEnumerable<MessageBatch> Limit(IAsyncEnumerable<MessageBatch> batches, long? max, [EnumeratorCancellation] CancellationToken ct = default)
    {
        long left = max ?? long.MaxValue;
        await foreach (var b in batches.WithCancellation(ct))
        {
            if (left <= 0) yield break;
            if (b.Length <= left) yield return b;
            else
            {
                var part = new MessageBatch.Builder();
                for (int i = 0; i < left; i++) part.AppendFrom(b, i);
                yield return part.Build();
            }
            left -= b.Length;
        }
    }
}
