using Apache.Arrow;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>One node of a compiled plan: evaluates a whole batch at once.</summary>
internal abstract class Kernel(DataType type)
{
    public DataType Type { get; } = type;
    public abstract Value Evaluate(EvalContext ctx);
}

internal sealed class ConstKernel(Scalar value) : Kernel(value.Type)
{
    public Scalar Scalar { get; } = value;
    public override Value Evaluate(EvalContext ctx) => Value.Of(Scalar);
}

/// <summary>A sub-expression written more than once: evaluated once per batch, its column reused.</summary>
internal sealed class SharedKernel(Kernel inner) : Kernel(inner.Type)
{
    public override Value Evaluate(EvalContext ctx)
    {
        ctx.Shared ??= [];
        if (ctx.Shared.TryGetValue(this, out var v)) return v;
        v = inner.Evaluate(ctx);
        ctx.Shared[this] = v;
        return v;
    }
}

internal sealed class RootKernel(DataType type) : Kernel(type)
{
    public override Value Evaluate(EvalContext ctx) => Value.Of(ctx.Root);
}

/// <summary>Struct field access: zero-copy unless the struct itself has nulls (then the child's validity is narrowed).</summary>
internal sealed class FieldKernel(Kernel target, int index, DataType type) : Kernel(type)
{
    public override Value Evaluate(EvalContext ctx)
    {
        var t = target.Evaluate(ctx);
        if (t.IsScalar)
        {
            var fields = (object?[]?)t.Scalar!.Value;
            return Value.Of(new Scalar(Type, fields?[index]));
        }
        var s = (StructArray)t.Array!;
        var child = s.Fields[index]; // already sliced to the struct's offset
        return Value.Of(s.NullCount == 0 ? child : ArrowValues.WithValidity(child, ValidityView.Of(s).ToBitmap(s.Length)));
    }
}

/// <summary>
/// A field of every element of a list of structs (<c>_.items.qty</c>): zero-copy, the list's own offsets and validity
/// over the struct's field column, whose validity is narrowed only where an element itself is null.
/// </summary>
internal sealed class ListFieldKernel(Kernel target, int index, DataType type) : Kernel(type)
{
    private readonly Apache.Arrow.Types.IArrowType _arrowType = type.ToArrow();

    public override Value Evaluate(EvalContext ctx)
    {
        var t = target.Evaluate(ctx);
        if (t.IsScalar)
        {
            var items = (object?[]?)t.Scalar!.Value;
            return Value.Of(new Scalar(Type, items?.Select(item => item is object?[] fields ? fields[index] : null).ToArray()));
        }
        var list = (ListArray)t.Array!;
        var elements = (StructArray)list.Values;
        var child = elements.Fields[index]; // already sliced to the struct's offset, so list offsets index it as they index the struct
        if (elements.NullCount != 0) child = ArrowValues.WithValidity(child, ValidityView.Of(elements).ToBitmap(elements.Length));
        var data = new ArrayData(_arrowType, list.Length, list.Data.NullCount, list.Offset,
            [list.Data.Buffers[0], list.Data.Buffers[1]], [child.Data]);
        return Value.Of(new ListArray(data));
    }
}

/// <summary>
/// Typed random access to one argument of a row-loop kernel, whether it is a column or a scalar.
/// Built once per batch; reading a row allocates nothing.
/// </summary>
internal sealed class Arg
{
    private readonly IArrowArray? _array;
    private readonly Scalar? _scalar;
    private readonly byte[]? _valid;
    private readonly bool _allNull;

    public Arg(in Value v, int length)
    {
        _array = v.Array;
        _scalar = v.Scalar;
        Type = v.IsScalar ? v.Scalar!.Type : null;
        if (v.IsScalar && v.Scalar!.Type.Kind is TypeKind.List or TypeKind.Struct)
        {
            // Folded constants of nested types are rare; a column of them keeps the row readers simple.
            _array = v.ToArray(length);
            _scalar = null;
        }
        if (_scalar is not null) _allNull = _scalar.IsNull;
        else _valid = ValidityView.Of(_array!).ToBitmap(length);
    }

    public DataType? Type { get; }
    public IArrowArray? Array => _array;
    public object? ScalarValue => _scalar?.Value;
    public bool IsValid(int i) => !_allNull && Bitmaps.Get(_valid, i);

    public long Int64(int i) => _scalar is not null ? Convert.ToInt64(_scalar.Value, System.Globalization.CultureInfo.InvariantCulture) : ((PrimitiveArray<long>)_array!).Values[i];
    public double Float64(int i) => _scalar is not null ? (double)_scalar.Value! : ((DoubleArray)_array!).Values[i];
    public int Date(int i) => _scalar is not null ? (int)_scalar.Value! : ((Date32Array)_array!).Values[i];
    public bool Bool(int i) => _scalar is not null ? (bool)_scalar.Value! : BitUtility.GetBit(((BooleanArray)_array!).ValueBuffer.Span, _array!.Offset + i);
    public ReadOnlySpan<byte> Bytes(int i) => _scalar is not null ? _scalar.Bytes : ((BinaryArray)_array!).GetBytes(i);

    /// <summary>The element column and [start, end) of row <paramref name="i"/> of a list argument.</summary>
    public (IArrowArray Values, int Start, int End) List(int i)
    {
        if (_scalar is not null) throw new InvalidOperationException("list scalars are folded before they reach a kernel");
        var l = (ListArray)_array!;
        return (l.Values, l.ValueOffsets[i], l.ValueOffsets[i + 1]);
    }
}

internal delegate void RowFn<TBuilder>(Arg[] args, int row, TBuilder output) where TBuilder : ColumnBuilder;

/// <summary>
/// Columnar kernel driven by a per-row function over <see cref="Arg"/> views, for functions whose per-row work
/// dominates (string, hash, JSON, list functions). Nulls propagate unless the function handles them itself.
/// </summary>
internal sealed class RowLoopKernel<TBuilder>(DataType type, Kernel[] children, RowFn<TBuilder> fn, bool propagateNulls = true)
    : Kernel(type) where TBuilder : ColumnBuilder
{
    public override Value Evaluate(EvalContext ctx)
    {
        int n = ctx.Length;
        var values = new Value[children.Length];
        for (int k = 0; k < children.Length; k++) values[k] = children[k].Evaluate(ctx);
        var args = new Arg[children.Length];
        for (int k = 0; k < children.Length; k++) args[k] = new Arg(values[k], n);
        var valid = propagateNulls ? Bitmaps.And(values, n) : null;
        var output = (TBuilder)ColumnBuilder.Create(Type, n);
        for (int i = 0; i < n; i++)
        {
            if (Bitmaps.Get(valid, i)) fn(args, i, output);
            else output.AppendNull();
        }
        return Value.Of(output.Build());
    }
}
