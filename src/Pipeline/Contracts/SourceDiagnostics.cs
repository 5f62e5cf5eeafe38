using Sluice.Pipeline.Definitions;

namespace Sluice.Pipeline.Contracts;

/// <summary>Where a source kind reports what is wrong with a source's options.</summary>
public sealed class SourceDiagnostics(Action<string, string, SourceLocation> report)
{
    /// <summary>Reports an error with its code (<see cref="DefinitionErrorCodes"/>), message and location.</summary>
    public void Error(string code, string message, SourceLocation at) => report(code, message, at);
}
