using Apache.Arrow;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>
/// Lowers typed IR into a tree of kernels, choosing each implementation once. Sub-trees that do not read <c>_</c>
/// are evaluated here, once, by their own kernels over a one-row batch, and become constants. A function call written
/// twice in one expression (the seed's parse expression names <c>F.proto_deserialize(...)</c> in its condition and its
/// result) becomes one kernel whose column is computed once per batch.
/// </summary>
internal sealed class KernelCompiler
{
    private readonly HashSet<string> _repeated = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Kernel> _shared = new(StringComparer.Ordinal);
    private readonly Dictionary<object, int> _states = new(ReferenceEqualityComparer.Instance);

    private KernelCompiler(BoundExpr e) => FindRepeatedCalls(e, new HashSet<string>(StringComparer.Ordinal));

    public static Kernel Compile(BoundExpr e) => Compile(e, out _);

    /// <summary>Compiles; <paramref name="shared"/> counts the calls written more than once that now run once per batch.</summary>
    public static Kernel Compile(BoundExpr e, out int shared)
    {
        var c = new KernelCompiler(e);
        var kernel = c.CompileNode(e);
        shared = c._shared.Count;
        return kernel;
    }

    private Kernel CompileNode(BoundExpr e)
    {
        string? key = null;
        if (e is CallExpr && _repeated.Count > 0 && _repeated.Contains(key = Key(e)) && _shared.TryGetValue(key, out var done)) return done;
        var k = Lower(e);
        if (!(k is ConstKernel || k is RootKernel || ReadsRoot(e)))
        {
            var v = k.Evaluate(new EvalContext(new NullArray(1)));
            var value = v.IsScalar ? v.Scalar!.Value : ArrowValues.GetRow(v.Array!, 0, k.Type);
            k = new ConstKernel(new Scalar(k.Type, value));
        }
        else if (key is not null && _repeated.Contains(key)) _shared[key] = k = new SharedKernel(k);
        return k;
    }

    private void FindRepeatedCalls(BoundExpr e, HashSet<string> seen)
    {
        if (e is CallExpr c && !seen.Add(Key(c)))
        {
            _repeated.Add(Key(c));
            return; // its arguments repeat with it
        }
        foreach (var child in Children(e)) FindRepeatedCalls(child, seen);
    }

    private static IEnumerable<BoundExpr> Children(BoundExpr e) => e switch
    {
        FieldExpr f => [f.Target],
        ListFieldExpr f => [f.Target],
        UnaryExpr u => [u.Operand],
        BinaryExpr b => [b.Left, b.Right],
        CastExpr c => [c.Operand],
        CallExpr c => c.Arguments,
        _ => [],
    };

    /// <summary>
    /// The expression's structure without source positions: equal keys compute equal columns. What a function
    /// precompiled from its literal arguments (a JSON path, a regex, a protobuf schema) counts by identity.
    /// </summary>
    private string Key(BoundExpr e) => e switch
    {
        RootExpr => "_",
        FieldExpr f => $"{Key(f.Target)}.{f.Name}",
        ListFieldExpr f => $"{Key(f.Target)}[].{f.Name}",
        LiteralExpr l => $"lit({l.Type}:{LiteralText(l.Value)})",
        UnaryExpr u => $"{u.Op}({Key(u.Operand)})",
        BinaryExpr b => $"{b.Op}({Key(b.Left)},{Key(b.Right)})",
        CastExpr c => $"cast({Key(c.Operand)},{c.Type})",
        CallExpr c => $"{c.Function.Name}({string.Join(",", c.Arguments.Select(Key))}):{c.Type}#{StateId(c.State)}",
        _ => throw new InvalidOperationException(e.GetType().Name),
    };

    private int StateId(object? state)
    {
        if (state is null) return 0;
        if (!_states.TryGetValue(state, out int id)) _states[state] = id = _states.Count + 1;
        return id;
    }

    private static string LiteralText(object? v) => v switch
    {
        null => "None",
        byte[] b => "b" + Convert.ToHexString(b),
        string s => "\"" + s.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static bool ReadsRoot(BoundExpr e) => e switch
    {
        RootExpr => true,
        FieldExpr f => ReadsRoot(f.Target),
        ListFieldExpr f => ReadsRoot(f.Target),
        UnaryExpr u => ReadsRoot(u.Operand),
        BinaryExpr b => ReadsRoot(b.Left) || ReadsRoot(b.Right),
        CastExpr c => ReadsRoot(c.Operand),
        CallExpr c => c.Arguments.Any(ReadsRoot),
        _ => false,
    };

    private Kernel Lower(BoundExpr e) => e switch
    {
        RootExpr r => new RootKernel(r.Type),
        LiteralExpr l => new ConstKernel(new Scalar(l.Type, l.Value)),
        FieldExpr f => new FieldKernel(CompileNode(f.Target), f.Index, f.Type),
        ListFieldExpr f => new ListFieldKernel(CompileNode(f.Target), f.Index, f.Type),
        CastExpr c => Conversions.CreateKernel(c.Operand.Type, c.Type, CompileNode(c.Operand)),
        UnaryExpr { Op: UnaryOp.Not } u => new NotKernel(u.Type, CompileNode(u.Operand)),
        UnaryExpr u => u.Type.Kind == TypeKind.Int64
            ? new NegateKernel<long>(u.Type, CompileNode(u.Operand))
            : new NegateKernel<double>(u.Type, CompileNode(u.Operand)),
        BinaryExpr b => LowerBinary(b),
        CallExpr c => c.Function.CreateKernel(c, c.Arguments.Select(CompileNode).ToArray()),
        _ => throw new InvalidOperationException(e.GetType().Name),
    };

    private Kernel LowerBinary(BinaryExpr b)
    {
        var l = CompileNode(b.Left);
        var r = CompileNode(b.Right);
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
                    TypeKind.Bool => new OrderCompareKernel<BoolOrder>(b.Type, b.Op, l, r),
                    _ => new OrderCompareKernel<BytesOrder>(b.Type, b.Op, l, r),
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
