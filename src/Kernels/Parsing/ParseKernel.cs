using Apache.Arrow;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Parsing;

/// <summary>Turns a batch of raw messages (an Arrow binary column) into the message column of a type.</summary>
public abstract class ParseKernel
{
    /// <summary>The message type produced.</summary>
    public abstract DataType MessageType { get; }

    /// <summary>Parses every message; bad ones become errors, never exceptions. Safe to call from several threads.</summary>
    public abstract ParseResult Parse(BinaryArray messages);

    /// <summary>The kernel for a message type: raw string, raw bytes, or JSON into any other type.</summary>
    public static ParseKernel For(DataType messageType) => messageType.Kind switch
    {
        TypeKind.String => new StringParseKernel(messageType),
        TypeKind.Bytes => new BytesParseKernel(messageType),
        _ => new JsonParseKernel(messageType),
    };

    /// <summary>Builds a binary column of messages (test and tooling convenience).</summary>
    public static BinaryArray Messages(IEnumerable<byte[]?> messages)
    {
        var b = new BinaryArray.Builder();
        foreach (var m in messages)
        {
            if (m is null) b.AppendNull();
            else b.Append((ReadOnlySpan<byte>)m);
        }
        return b.Build();
    }
}
