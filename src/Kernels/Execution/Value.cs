using Apache.Arrow;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>A constant known when the plan is compiled, in row form, with its UTF-8 bytes cached for text kernels.</summary>
internal sealed class Scalar
{
    public Scalar(DataType type, object? value)
    {
        Type = type;
        Value = value;
        Bytes = value switch
        {
            string s => System.Text.Encoding.UTF8.GetBytes(s),
            byte[] b => b,
            _ => null,
        };
    }

    public DataType Type { get; }
    public object? Value { get; }
    public byte[]? Bytes { get; }
    public bool IsNull => Value is null;
}

/// <summary>What a kernel yields: a whole column, or one scalar that stands for every row (never materialized).</summary>
internal readonly struct Value
{
    private Value(IArrowArray? array, Scalar? scalar)
    {
        Array = array;
        Scalar = scalar;
    }

    public IArrowArray? Array { get; }
    public Scalar? Scalar { get; }
    public bool IsScalar => Array is null;

    public static Value Of(IArrowArray array) => new(array, null);
    public static Value Of(Scalar scalar) => new(null, scalar);

    /// <summary>A column of <paramref name="length"/> rows; broadcasts a scalar (only at the edge of a plan).</summary>
    public IArrowArray ToArray(int length)
    {
        if (Array is not null) return Array;
        var b = ColumnBuilder.Create(Scalar!.Type.Kind == TypeKind.Null ? DataType.Int64.WithNullable(true) : Scalar.Type, length);
        for (int i = 0; i < length; i++) b.AppendRow(Scalar.Value);
        return b.Build();
    }
}

/// <summary>
/// The batch a plan runs over: the message column <c>_</c>, the per-row errors kernels report (a row that does not
/// decode becomes null and is named here), and the results of shared sub-expressions, computed once per batch.
/// </summary>
internal sealed class EvalContext(IArrowArray root)
{
    public IArrowArray Root { get; } = root;
    public int Length { get; } = root.Length;
    public List<Sluice.Kernels.Parsing.ParseError>? Errors { get; private set; }
    public Dictionary<Kernel, Value>? Shared { get; set; }

    public void RowError(int row, string path, string reason) => (Errors ??= []).Add(new(row, path, reason));
}
