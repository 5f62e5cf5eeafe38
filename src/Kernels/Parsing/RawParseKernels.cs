using System.Text.Unicode;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Parsing;

/// <summary><c>str</c> messages: the payload as text; invalid UTF-8 is a per-message error. Zero-copy when all are valid.</summary>
internal sealed class StringParseKernel(DataType type) : ParseKernel
{
    public override DataType MessageType => type;

    public override ParseResult Parse(BinaryArray messages)
    {
        List<ParseError>? errors = null;
        for (int i = 0; i < messages.Length; i++)
        {
            if (messages.IsNull(i)) (errors ??= []).Add(new ParseError(i, "", "message has no value (a tombstone)"));
            else if (!Utf8.IsValid(messages.GetBytes(i)))
                (errors ??= []).Add(new ParseError(i, "", $"payload is not valid UTF-8 (first bad byte at {FirstInvalid(messages.GetBytes(i))})"));
        }
        if (errors is null)
            return new ParseResult(new StringArray(messages.Length, messages.ValueOffsetsBuffer, messages.ValueBuffer, ArrowBuffer.Empty, 0, messages.Offset), null, []);
        return RawParse.Compact(messages, errors, DataType.String);
    }

    private static int FirstInvalid(ReadOnlySpan<byte> s)
    {
        int pos = 0;
        while (pos < s.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(s[pos..], out _, out int used) != System.Buffers.OperationStatus.Done) return pos;
            pos += used;
        }
        return pos;
    }
}

/// <summary><c>bytes</c> messages: the payload as is. Zero-copy unless a message has no value.</summary>
internal sealed class BytesParseKernel(DataType type) : ParseKernel
{
    public override DataType MessageType => type;

    public override ParseResult Parse(BinaryArray messages)
    {
        if (messages.NullCount == 0) return new ParseResult(messages, null, []);
        var errors = new List<ParseError>();
        for (int i = 0; i < messages.Length; i++)
            if (messages.IsNull(i)) errors.Add(new ParseError(i, "", "message has no value (a tombstone)"));
        return RawParse.Compact(messages, errors, DataType.Bytes);
    }
}

internal static class RawParse
{
    /// <summary>Copies the messages that have no error into a new column.</summary>
    public static ParseResult Compact(BinaryArray messages, List<ParseError> errors, DataType type)
    {
        var b = new BinaryBuilder(type, messages.Length - errors.Count, messages.ValueBuffer.Length);
        var index = new int[messages.Length - errors.Count];
        int e = 0, row = 0;
        for (int i = 0; i < messages.Length; i++)
        {
            if (e < errors.Count && errors[e].Index == i) { e++; continue; }
            b.Append(messages.GetBytes(i));
            index[row++] = i;
        }
        return new ParseResult(b.Build(), index, errors);
    }
}
