namespace Sluice.Pipeline.Runtime;

/// <summary>A run that cannot start as asked (no resolver to serve, a store URI that is wrong): the message says what to change.</summary>
public sealed class RunSetupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A source failed while it was read: which source, of which kind, and the original exception as the inner one.</summary>
public sealed class SourceException(string source, string kind, Exception inner) : Exception($"source {source} ({kind}): {inner.Message}", inner)
{
    /// <summary>The source's name in the definitions.</summary>
    public string SourceName { get; } = source;
    /// <summary>Its kind.</summary>
    public string Kind { get; } = kind;
}

/// <summary>
/// A source failed mid-stream (a bad recording line, a source error): reading stopped there, everything read before it
/// was written to every store and target alike and committed, and <see cref="Partial"/> counts it. The inner exception
/// is the failure.
/// </summary>
public sealed class RunStoppedException(RunResult partial, Exception cause)
    : Exception($"{cause.Message} (reading stopped there: {(partial.Messages == 1 ? "the 1 message before it is" : $"the {partial.Messages} messages before it are")} in every store alike)", cause)
{
    /// <summary>What was processed before the failure.</summary>
    public RunResult Partial { get; } = partial;
}
