using Apache.Arrow;

namespace Sluice.Kernels.Parsing;

/// <summary>Why one message did not parse: its index in the batch, the field path (e.g. <c>contact_info.email_address</c>) and the reason.</summary>
public sealed record ParseError(int Index, string Path, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => Path.Length == 0 ? $"message {Index}: {Reason}" : $"message {Index}, field '{Path}': {Reason}";
}

/// <summary>
/// The good rows of a batch as one message column, plus one error per message that did not parse.
/// Rows keep message order; <see cref="SourceIndex"/> maps a row back to its message when some were dropped.
/// </summary>
public sealed class ParseResult
{
    internal ParseResult(IArrowArray column, int[]? sourceIndex, IReadOnlyList<ParseError> errors)
    {
        Column = column;
        SourceIndex = sourceIndex;
        Errors = errors;
    }

    /// <summary>The message column <c>_</c>: one row per message that parsed.</summary>
    public IArrowArray Column { get; }
    /// <summary>Message index of each row; null when every message parsed (row i is message i).</summary>
    public int[]? SourceIndex { get; }
    /// <summary>One entry per message that did not parse, in message order.</summary>
    public IReadOnlyList<ParseError> Errors { get; }
    /// <summary>Number of parsed rows.</summary>
    public int RowCount => Column.Length;

    /// <summary>The message index of row <paramref name="row"/>.</summary>
    public int MessageIndex(int row) => SourceIndex?[row] ?? row;
}
