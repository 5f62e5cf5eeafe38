using System.Text;

namespace Sluice.Kernels.Diagnostics;

/// <summary>
/// One error found before any message flows: a stable code, a one-line message that says what to do, and where.
/// </summary>
public sealed record Diagnostic(string Code, string Message, TextSpan Span)
{
    /// <summary>"SLU101: message (line:col)" followed by the source line and a caret under the span.</summary>
    public string Format(string source, string? origin = null)
    {
        var (line, col, lineText) = Locate(source, Span.Start);
        var sb = new StringBuilder();
        sb.Append(Code).Append(": ").Append(Message).Append(" (").Append(origin is null ? "" : origin + ":")
          .Append(line).Append(':').Append(col).Append(')').Append('\n');
        sb.Append("  ").Append(lineText).Append('\n');
        sb.Append("  ").Append(' ', col - 1).Append('^', Math.Max(1, Math.Min(Span.Length, lineText.Length - col + 1)));
        return sb.ToString();
    }

    /// <summary>1-based line and column of <paramref name="position"/> and the text of its line.</summary>
    public static (int Line, int Column, string LineText) Locate(string source, int position)
    {
        position = Math.Clamp(position, 0, source.Length);
        int line = 1, lineStart = 0;
        for (int i = 0; i < position; i++)
            if (source[i] == '\n') { line++; lineStart = i + 1; }
        int lineEnd = source.IndexOf('\n', lineStart);
        if (lineEnd < 0) lineEnd = source.Length;
        return (line, position - lineStart + 1, source[lineStart..lineEnd]);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Code}: {Message} (at {Span.Start})";
}

/// <summary>Thrown by APIs that need a valid expression when it has errors; carries all of them.</summary>
public sealed class ExpressionException(string source, IReadOnlyList<Diagnostic> diagnostics)
    : Exception(string.Join("\n", diagnostics.Select(d => d.Format(source))))
{
    /// <summary>The expression text.</summary>
    public string Expression { get; } = source;
    /// <summary>Every error found.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
