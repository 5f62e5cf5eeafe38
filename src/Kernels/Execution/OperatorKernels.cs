using System.Runtime.InteropServices;
using Apache.Arrow;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>A binary operation on fixed-width values; false means "this row is null" (overflow, division by zero).</summary>
internal interface IBinaryOp<T, TR> where T : unmanaged, IEquatable<T> where TR : unmanaged
{
    static abstract bool Apply(T a, T b, out TR r);
}

internal struct AddI64 : IBinaryOp<long, long>
{
    public static bool Apply(long a, long b, out long r) { r = a + b; return ((a ^ r) & (b ^ r)) >= 0; }
}
internal struct SubI64 : IBinaryOp<long, long>
{
    public static bool Apply(long a, long b, out long r) { r = a - b; return ((a ^ b) & (a ^ r)) >= 0; }
}
internal struct MulI64 : IBinaryOp<long, long>
{
    public static bool Apply(long a, long b, out long r) { long high = Math.BigMul(a, b, out r); return high == (r >> 63); }
}
internal struct FloorDivI64 : IBinaryOp<long, long>
{
    public static bool Apply(long a, long b, out long r)
    {
        if (b == 0 || (a == long.MinValue && b == -1)) { r = 0; return false; }
        r = a / b;
        if (a % b != 0 && ((a < 0) != (b < 0))) r--;
        return true;
    }
}
internal struct ModI64 : IBinaryOp<long, long>
{
    public static bool Apply(long a, long b, out long r)
    {
        if (b == 0) { r = 0; return false; }
        if (b == -1) { r = 0; return true; } // long.MinValue % -1 throws in .NET; the answer is 0.
        r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return true;
    }
}
internal struct AddF64 : IBinaryOp<double, double> { public static bool Apply(double a, double b, out double r) { r = a + b; return true; } }
internal struct SubF64 : IBinaryOp<double, double> { public static bool Apply(double a, double b, out double r) { r = a - b; return true; } }
internal struct MulF64 : IBinaryOp<double, double> { public static bool Apply(double a, double b, out double r) { r = a * b; return true; } }
internal struct DivF64 : IBinaryOp<double, double>
{
    public static bool Apply(double a, double b, out double r) { r = a / b; return b != 0; }
}
internal struct FloorDivF64 : IBinaryOp<double, double>
{
    public static bool Apply(double a, double b, out double r) { r = Math.Floor(a / b); return b != 0; }
}
internal struct ModF64 : IBinaryOp<double, double>
{
    public static bool Apply(double a, double b, out double r)
    {
        r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return b != 0;
    }
}

/// <summary>Comparison on fixed-width values (IEEE semantics for floats: NaN compares false).</summary>
internal interface ICompareOp
{
    static abstract bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool>;
}
internal struct Eq : ICompareOp { public static bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool> => a == b; }
internal struct Ne : ICompareOp { public static bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool> => a != b; }
internal struct Lt : ICompareOp { public static bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool> => a < b; }
internal struct Le : ICompareOp { public static bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool> => a <= b; }
internal struct Gt : ICompareOp { public static bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool> => a > b; }
internal struct Ge : ICompareOp { public static bool Test<T>(T a, T b) where T : System.Numerics.IComparisonOperators<T, T, bool> => a >= b; }

internal static class Columns
{
    public static ReadOnlySpan<T> Values<T>(IArrowArray a) where T : unmanaged, IEquatable<T> => ((PrimitiveArray<T>)a).Values;

    public static T ScalarAs<T>(Scalar s) where T : unmanaged, IEquatable<T> => (T)s.Value!;

    public static Value Null(DataType type) => Value.Of(new Scalar(type.WithNullable(true), null));

    public static IArrowArray Primitive<T>(DataType type, byte[] values, byte[]? valid, int n) where T : unmanaged, IEquatable<T> =>
        ArrowValues.Primitive(type, new ArrowBuffer(values), Bitmaps.ToBuffer(valid), n, Bitmaps.CountNulls(valid, n));

    public static IArrowArray Bools(byte[] bits, byte[]? valid, int n) =>
        new BooleanArray(new ArrowBuffer(bits), Bitmaps.ToBuffer(valid), n, Bitmaps.CountNulls(valid, n), 0);
}

/// <summary>Arithmetic over two int64 or two float64 operands: one tight loop per column/scalar shape.</summary>
internal sealed class ArithmeticKernel<T, TOp>(DataType type, Kernel left, Kernel right) : Kernel(type)
    where T : unmanaged, IEquatable<T> where TOp : IBinaryOp<T, T>
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = left.Evaluate(ctx);
        var b = right.Evaluate(ctx);
        if ((a.IsScalar && a.Scalar!.IsNull) || (b.IsScalar && b.Scalar!.IsNull)) return Columns.Null(Type);
        if (a.IsScalar && b.IsScalar)
            return Value.Of(new Scalar(Type, TOp.Apply(Columns.ScalarAs<T>(a.Scalar!), Columns.ScalarAs<T>(b.Scalar!), out var v) ? v : null));
        int n = ctx.Length;
        var valid = Bitmaps.And(a, b, n);
        var bytes = new byte[n * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        var r = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
        if (!a.IsScalar && !b.IsScalar)
        {
            var av = Columns.Values<T>(a.Array!);
            var bv = Columns.Values<T>(b.Array!);
            for (int i = 0; i < r.Length; i++)
                if (!TOp.Apply(av[i], bv[i], out r[i])) Bitmaps.Clear(ref valid, i, n);
        }
        else if (b.IsScalar)
        {
            var av = Columns.Values<T>(a.Array!);
            var bs = Columns.ScalarAs<T>(b.Scalar!);
            for (int i = 0; i < r.Length; i++)
                if (!TOp.Apply(av[i], bs, out r[i])) Bitmaps.Clear(ref valid, i, n);
        }
        else
        {
            var a0 = Columns.ScalarAs<T>(a.Scalar!);
            var bv = Columns.Values<T>(b.Array!);
            for (int i = 0; i < r.Length; i++)
                if (!TOp.Apply(a0, bv[i], out r[i])) Bitmaps.Clear(ref valid, i, n);
        }
        return Value.Of(Columns.Primitive<T>(Type, bytes, valid, n));
    }
}

/// <summary>Comparison of two fixed-width operands into a bit-packed bool column.</summary>
internal sealed class CompareKernel<T, TOp>(DataType type, Kernel left, Kernel right) : Kernel(type)
    where T : unmanaged, IEquatable<T>, System.Numerics.IComparisonOperators<T, T, bool> where TOp : ICompareOp
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = left.Evaluate(ctx);
        var b = right.Evaluate(ctx);
        if ((a.IsScalar && a.Scalar!.IsNull) || (b.IsScalar && b.Scalar!.IsNull)) return Columns.Null(Type);
        if (a.IsScalar && b.IsScalar)
            return Value.Of(new Scalar(Type, TOp.Test(Columns.ScalarAs<T>(a.Scalar!), Columns.ScalarAs<T>(b.Scalar!))));
        int n = ctx.Length;
        var bits = new byte[(n + 7) >> 3];
        if (!a.IsScalar && !b.IsScalar)
        {
            var av = Columns.Values<T>(a.Array!);
            var bv = Columns.Values<T>(b.Array!);
            for (int i = 0; i < n; i++) if (TOp.Test(av[i], bv[i])) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        else if (b.IsScalar)
        {
            var av = Columns.Values<T>(a.Array!);
            var bs = Columns.ScalarAs<T>(b.Scalar!);
            for (int i = 0; i < n; i++) if (TOp.Test(av[i], bs)) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        else
        {
            var a0 = Columns.ScalarAs<T>(a.Scalar!);
            var bv = Columns.Values<T>(b.Array!);
            for (int i = 0; i < n; i++) if (TOp.Test(a0, bv[i])) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        return Value.Of(Columns.Bools(bits, Bitmaps.And(a, b, n), n));
    }
}

/// <summary>How <see cref="OrderCompareKernel{TOrder}"/> orders the rows of its two operands.</summary>
internal interface IRowOrder
{
    static abstract int Compare(Arg a, Arg b, int row);
}

/// <summary>Strings or bytes: byte-wise order of UTF-8, which is code point order.</summary>
internal readonly struct BytesOrder : IRowOrder
{
    public static int Compare(Arg a, Arg b, int row) => a.Bytes(row).SequenceCompareTo(b.Bytes(row));
}

/// <summary>Bools: False &lt; True.</summary>
internal readonly struct BoolOrder : IRowOrder
{
    public static int Compare(Arg a, Arg b, int row) => a.Bool(row).CompareTo(b.Bool(row));
}

/// <summary>Comparison of operands that are not fixed-width numbers (<see cref="BytesOrder"/>, <see cref="BoolOrder"/>) into a bit-packed bool column.</summary>
internal sealed class OrderCompareKernel<TOrder>(DataType type, BinaryOp op, Kernel left, Kernel right) : Kernel(type) where TOrder : IRowOrder
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = left.Evaluate(ctx);
        var b = right.Evaluate(ctx);
        if ((a.IsScalar && a.Scalar!.IsNull) || (b.IsScalar && b.Scalar!.IsNull)) return Columns.Null(Type);
        int n = a.IsScalar && b.IsScalar ? 1 : ctx.Length;
        var aa = new Arg(a, n);
        var ba = new Arg(b, n);
        var bits = new byte[(n + 7) >> 3];
        for (int i = 0; i < n; i++)
        {
            int c = TOrder.Compare(aa, ba, i);
            bool t = op switch
            {
                BinaryOp.Equal => c == 0, BinaryOp.NotEqual => c != 0, BinaryOp.Less => c < 0,
                BinaryOp.LessOrEqual => c <= 0, BinaryOp.Greater => c > 0, _ => c >= 0,
            };
            if (t) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        if (a.IsScalar && b.IsScalar) return Value.Of(new Scalar(Type, (bits[0] & 1) != 0));
        return Value.Of(Columns.Bools(bits, Bitmaps.And(a, b, n), n));
    }
}

/// <summary>Three-valued AND / OR: a definite False (AND) or True (OR) on either side wins over null.</summary>
internal sealed class LogicalKernel(DataType type, bool isAnd, Kernel left, Kernel right) : Kernel(type)
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = left.Evaluate(ctx);
        var b = right.Evaluate(ctx);
        int n = a.IsScalar && b.IsScalar ? 1 : ctx.Length;
        var aa = new Arg(a, n);
        var ba = new Arg(b, n);
        var bits = new byte[(n + 7) >> 3];
        byte[]? valid = null;
        for (int i = 0; i < n; i++)
        {
            bool av = aa.IsValid(i), bv = ba.IsValid(i);
            bool ax = av && aa.Bool(i), bx = bv && ba.Bool(i);
            bool? r = isAnd
                ? (av && !ax) || (bv && !bx) ? false : av && bv ? true : null
                : (av && ax) || (bv && bx) ? true : av && bv ? false : null;
            if (r is null) Bitmaps.Clear(ref valid, i, n);
            else if (r.Value) bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        if (a.IsScalar && b.IsScalar) return Value.Of(new Scalar(Type, valid is null ? (bits[0] & 1) != 0 : null));
        return Value.Of(Columns.Bools(bits, valid, n));
    }
}

internal sealed class NotKernel(DataType type, Kernel operand) : Kernel(type)
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = operand.Evaluate(ctx);
        if (a.IsScalar) return Value.Of(new Scalar(Type, a.Scalar!.Value is bool v ? !v : null));
        int n = ctx.Length;
        var arg = new Arg(a, n);
        var bits = new byte[(n + 7) >> 3];
        for (int i = 0; i < n; i++) if (arg.IsValid(i) && !arg.Bool(i)) bits[i >> 3] |= (byte)(1 << (i & 7));
        return Value.Of(Columns.Bools(bits, Bitmaps.And(a, n), n));
    }
}

internal sealed class NegateKernel<T>(DataType type, Kernel operand) : Kernel(type) where T : unmanaged, IEquatable<T>
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = operand.Evaluate(ctx);
        int n = ctx.Length;
        if (a.IsScalar)
            return Value.Of(new Scalar(Type, a.Scalar!.Value switch { long l when l != long.MinValue => -l, double d => -d, _ => null }));
        var valid = Bitmaps.And(a, n);
        var bytes = new byte[n * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        if (typeof(T) == typeof(long))
        {
            var src = Columns.Values<long>(a.Array!);
            var r = MemoryMarshal.Cast<byte, long>(bytes.AsSpan());
            for (int i = 0; i < n; i++)
            {
                if (src[i] == long.MinValue) Bitmaps.Clear(ref valid, i, n);
                else r[i] = -src[i];
            }
        }
        else
        {
            var src = Columns.Values<double>(a.Array!);
            var r = MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
            for (int i = 0; i < n; i++) r[i] = -src[i];
        }
        return Value.Of(Columns.Primitive<T>(Type, bytes, valid, n));
    }
}
