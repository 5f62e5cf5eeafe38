namespace Sluice.Pipeline.Contracts;

/// <summary>
/// The file targets every run has: sink files (<c>&lt;dir&gt;/&lt;target&gt;.jsonl|.arrows</c>, what <c>replay</c> writes
/// sinks to) and the dead-letter file (a replayable JSONL recording, for sources without a dead-letter topic).
/// </summary>
public interface IFileTargets
{
    /// <summary>A target writing sink rows to files under <paramref name="directory"/>.</summary>
    IBatchTarget OpenSinks(string directory);
    /// <summary>A target appending dead letters to <paramref name="path"/>.</summary>
    IBatchTarget OpenDeadLetters(string path);
}
