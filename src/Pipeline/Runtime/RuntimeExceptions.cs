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
