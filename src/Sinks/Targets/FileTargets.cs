using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>The file targets of a run: sink files in a folder, and the dead-letter file.</summary>
internal sealed class FileTargets : IFileTargets
{
    /// <inheritdoc/>
    public IBatchTarget OpenSinks(string directory) => new FileSink(directory);

    /// <inheritdoc/>
    public IBatchTarget OpenDeadLetters(string path) => new DeadLetterTarget(new AppendedLines(path));
}
