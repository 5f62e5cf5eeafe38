using Sluice.Kernels.Expressions;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Functions;

namespace Sluice.Kernels.Interpretation;

/// <summary>
/// The oracle: evaluates typed IR on one row, in row form, as plainly as possible. Kernels must agree with it on
/// every input; property tests check that. It is also the engine of row resolvers' reference tests.
/// </summary>
internal static class RowInterpreter
{
    /// <summary>Evaluates <paramref name="e"/> with <c>_</c> = <paramref name="root"/> (row form).</summary>
    public static object? Evaluate(BoundExpr e, object? root)
    {
        switch (e)
        {
            case RootExpr: return root;
            case LiteralExpr l: return l.Value;
            case FieldExpr f: return Evaluate(f.Target, root) is object?[] fields ? fields[f.Index] : null;
            case ListFieldExpr f:
                return Evaluate(f.Target, root) is object?[] items
                    ? items.Select(item => item is object?[] fields ? fields[f.Index] : null).ToArray()
                    : null;
            case CastExpr c: return Conversions.Row(Evaluate(c.Operand, root), c.Operand.Type, c.Type);
            case UnaryExpr u:
            {
                var v = Evaluate(u.Operand, root);
                return (u.Op, v) switch
                {
                    (_, null) => null,
                    (UnaryOp.Not, bool b) => !b,
                    (UnaryOp.Negate, long l) => l == long.MinValue ? null : -l,
                    (UnaryOp.Negate, double d) => -d,
                    _ => throw new InvalidOperationException($"bad operand {v}"),
                };
            }
            case BinaryExpr b: return Binary(b, Evaluate(b.Left, root), Evaluate(b.Right, root));
            case CallExpr c:
            {
                var args = c.Arguments.Select(a => Evaluate(a, root)).ToArray();
                if (c.Function.PropagatesNulls && args.Any(a => a is null)) return null;
                return c.Function.EvaluateRow(c, args);
            }
            default: throw new InvalidOperationException(e.GetType().Name);
        }
    }

    private static object? Binary(BinaryExpr b, object? l, object? r)
    {
        if (b.Op == BinaryOp.And)
            return l is false || r is false ? false : l is null || r is null ? null : true;
        if (b.Op == BinaryOp.Or)
            return l is true || r is true ? true : l is null || r is null ? null : false;
        if (l is null || r is null) return null;
        switch (b.Op)
        {
            case BinaryOp.Equal: return RowCompare.EqualsRow(l, r) && !(l is double d && double.IsNaN(d));
            case BinaryOp.NotEqual: return !RowCompare.EqualsRow(l, r) || (l is double dn && double.IsNaN(dn));
            case BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual:
                if (l is double x && r is double y)
                    return b.Op switch { BinaryOp.Less => x < y, BinaryOp.LessOrEqual => x <= y, BinaryOp.Greater => x > y, _ => x >= y };
                int c = RowCompare.CompareRow(l, r);
                return b.Op switch { BinaryOp.Less => c < 0, BinaryOp.LessOrEqual => c <= 0, BinaryOp.Greater => c > 0, _ => c >= 0 };
        }
        if (l is long a && r is long bb)
        {
            try
            {
                return b.Op switch
                {
                    BinaryOp.Add => checked(a + bb),
                    BinaryOp.Subtract => checked(a - bb),
                    BinaryOp.Multiply => checked(a * bb),
                    BinaryOp.FloorDivide => bb == 0 ? null : (long)Math.Floor((decimal)a / bb),
                    BinaryOp.Modulo => bb == 0 ? null : (long)(a - (decimal)bb * Math.Floor((decimal)a / bb)),
                    _ => throw new InvalidOperationException(b.Op.ToString()),
                };
            }
            catch (OverflowException) { return null; }
        }
        double p = (double)l, q = (double)r;
        return b.Op switch
        {
            BinaryOp.Add => p + q,
            BinaryOp.Subtract => p - q,
            BinaryOp.Multiply => p * q,
            BinaryOp.Divide => q == 0 ? null : p / q,
            BinaryOp.FloorDivide => q == 0 ? null : Math.Floor(p / q),
            BinaryOp.Modulo => q == 0 ? null : PyMod(p, q),
            _ => throw new InvalidOperationException(b.Op.ToString()),
        };
    }

    private static double PyMod(double p, double q)
    {
        double m = p % q;
        return m != 0 && (m < 0) != (q < 0) ? m + q : m;
    }
}
