using Apache.Arrow;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>
/// Lowers typed IR into a tree of kernels, choosing each implementation once. Sub-trees that do not read <c>_</c>
/// are evaluated here, once, by their own kernels over a one-row batch, and become constants.
/// </summary>
internal static class KernelCompiler
{
    public static Kernel Compile(BoundExpr e)
    {
        var k = Lower(e);
        if (k is ConstKernel || k is RootKernel || ReadsRoot(e)) return k;
        var v = k.Evaluate(new EvalContext(new NullArray(1)));
        var value = v.IsScalar ? v.Scalar!.Value : ArrowValues.GetRow(v.Array!, 0, k.Type);
        return new ConstKernel(new Scalar(k.Type, value));
    }

    private static bool ReadsRoot(BoundExpr e) => e switch
    {
        RootExpr => true,
        FieldExpr f => ReadsRoot(f.Target),
        UnaryExpr u => ReadsRoot(u.Operand),
        BinaryExpr b => ReadsRoot(b.Left) || ReadsRoot(b.Right),
        CastExpr c => ReadsRoot(c.Operand),
        CallExpr c => c.Arguments.Any(ReadsRoot),
        _ => false,
    };

    private static Kernel Lower(BoundExpr e) => e switch
    {
        RootExpr r => new RootKernel(r.Type),
        LiteralExpr l => new ConstKernel(new Scalar(l.Type, l.Value)),
        FieldExpr f => new FieldKernel(Compile(f.Target), f.Index, f.Type),
        CastExpr c => Conversions.CreateKernel(c.Operand.Type, c.Type, Compile(c.Operand)),
        UnaryExpr { Op: UnaryOp.Not } u => new NotKernel(u.Type, Compile(u.Operand)),
        UnaryExpr u => u.Type.Kind == TypeKind.Int64
            ? new NegateKernel<long>(u.Type, Compile(u.Operand))
            : new NegateKernel<double>(u.Type, Compile(u.Operand)),
        BinaryExpr b => LowerBinary(b),
        CallExpr c => c.Function.CreateKernel(c, c.Arguments.Select(Compile).ToArray()),
        _ => throw new InvalidOperationException(e.GetType().Name),
    };

    private static Kernel LowerBinary(BinaryExpr b)
    {
        var l = Compile(b.Left);
        var r = Compile(b.Right);
        var operand = b.Left.Type.Kind == TypeKind.Null ? b.Right.Type : b.Left.Type;
        switch (b.Op)
        {
            case BinaryOp.And: return new LogicalKernel(b.Type, true, l, r);
            case BinaryOp.Or: return new LogicalKernel(b.Type, false, l, r);
            case BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.Divide or BinaryOp.FloorDivide or BinaryOp.Modulo:
                return operand.Kind == TypeKind.Int64
                    ? b.Op switch
                    {
                        BinaryOp.Add => new ArithmeticKernel<long, AddI64>(b.Type, l, r),
                        BinaryOp.Subtract => new ArithmeticKernel<long, SubI64>(b.Type, l, r),
                        BinaryOp.Multiply => new ArithmeticKernel<long, MulI64>(b.Type, l, r),
                        BinaryOp.FloorDivide => new ArithmeticKernel<long, FloorDivI64>(b.Type, l, r),
                        _ => new ArithmeticKernel<long, ModI64>(b.Type, l, r),
                    }
                    : b.Op switch
                    {
                        BinaryOp.Add => new ArithmeticKernel<double, AddF64>(b.Type, l, r),
                        BinaryOp.Subtract => new ArithmeticKernel<double, SubF64>(b.Type, l, r),
                        BinaryOp.Multiply => new ArithmeticKernel<double, MulF64>(b.Type, l, r),
                        BinaryOp.Divide => new ArithmeticKernel<double, DivF64>(b.Type, l, r),
                        BinaryOp.FloorDivide => new ArithmeticKernel<double, FloorDivF64>(b.Type, l, r),
                        _ => new ArithmeticKernel<double, ModF64>(b.Type, l, r),
                    };
            default:
                return operand.Kind switch
                {
                    TypeKind.Int64 or TypeKind.Timestamp or TypeKind.Enum => Compare<long>(b, l, r),
                    TypeKind.Float64 => Compare<double>(b, l, r),
                    TypeKind.Date => Compare<int>(b, l, r),
                    TypeKind.Bool => new BoolCompareKernel(b.Type, b.Op, l, r),
                    _ => new BytesCompareKernel(b.Type, b.Op, l, r),
                };
        }
    }

    private static Kernel Compare<T>(BinaryExpr b, Kernel l, Kernel r) where T : unmanaged, IEquatable<T>, System.Numerics.IComparisonOperators<T, T, bool> => b.Op switch
    {
        BinaryOp.Equal => new CompareKernel<T, Eq>(b.Type, l, r),
        BinaryOp.NotEqual => new CompareKernel<T, Ne>(b.Type, l, r),
        BinaryOp.Less => new CompareKernel<T, Lt>(b.Type, l, r),
        BinaryOp.LessOrEqual => new CompareKernel<T, Le>(b.Type, l, r),
        BinaryOp.Greater => new CompareKernel<T, Gt>(b.Type, l, r),
        _ => new CompareKernel<T, Ge>(b.Type, l, r),
    };
}
