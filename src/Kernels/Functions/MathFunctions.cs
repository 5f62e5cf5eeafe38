using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>abs, round, floor, ceil, sqrt, ln, power, least, greatest.</summary>
internal static class MathFunctions
{
    public static IEnumerable<FunctionDef> All()
    {
        yield return new Fn("abs", "math", ["x"],
            (ctx, a) => Numeric(ctx, a, 0) is { } t ? Binding.Call(ctx, [Binding.To(a[0], t)], t.WithNullable(a[0].Type.IsNullable || t.Kind == TypeKind.Int64)) : null,
            (call, k) => call.Type.Kind == TypeKind.Int64
                ? new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, (a, i, o) => { long x = a[0].Int64(i); if (x == long.MinValue) o.AppendNull(); else o.Append(Math.Abs(x)); })
                : new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, k, (a, i, o) => o.Append(Math.Abs(a[0].Float64(i)))),
            (call, v) => v[0] switch { long l => l == long.MinValue ? null : Math.Abs(l), double d => Math.Abs(d), _ => null });
        yield return new Fn("round", "math", ["x", "digits"],
            BindRound,
            (call, k) => call.Type.Kind == TypeKind.Int64
                ? k[0]
                : new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, [k[0]], (a, i, o) => o.Append(Math.Round(a[0].Float64(i), (int)call.State!, MidpointRounding.AwayFromZero))),
            (call, v) => v[0] switch { long l => l, double d => Math.Round(d, (int)call.State!, MidpointRounding.AwayFromZero), _ => null },
            minArgs: 1);
        yield return Rounding("floor", Math.Floor);
        yield return Rounding("ceil", Math.Ceiling);
        yield return FloatFn("sqrt", Math.Sqrt);
        yield return FloatFn("ln", Math.Log);
        yield return new Fn("power", "math", ["base", "exponent"],
            (ctx, a) => Numeric(ctx, a, 0) is not null && Numeric(ctx, a, 1) is not null
                ? Binding.Call(ctx, Binding.ToAll(a, DataType.Float64), DataType.Float64.WithNullable(Binding.AnyNullable(a))) : null,
            (call, k) => new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, k, (a, i, o) => o.Append(Math.Pow(a[0].Float64(i), a[1].Float64(i)))),
            (call, v) => Math.Pow((double)v[0]!, (double)v[1]!));
        yield return Extreme("greatest", true);
        yield return Extreme("least", false);
    }

    private static DataType? Numeric(BindContext ctx, BoundExpr[] a, int i) =>
        Binding.Expect(ctx, a, i, "a number (int64 or float64)", TypeKind.Int64, TypeKind.Float64)
            ? (a[i].Type.Kind == TypeKind.Float64 ? DataType.Float64 : DataType.Int64) : null;

    private static BoundExpr? BindRound(BindContext ctx, BoundExpr[] a)
    {
        var t = Numeric(ctx, a, 0);
        if (t is null) return null;
        long digits = 0;
        if (a.Length > 1 && !Binding.Literal(ctx, a, 1, "the number of digits", out digits)) return null;
        if (digits is < 0 or > 15) return ctx.Error(ErrorCodes.ArgumentTypeMismatch, $"F.round digits must be between 0 and 15, not {digits}", 1);
        return Binding.Call(ctx, [Binding.To(a[0], t)], t.WithNullable(a[0].Type.IsNullable), (int)digits);
    }

    private static Fn Rounding(string name, Func<double, double> f) => new(name, "math", ["x"],
        (ctx, a) => Numeric(ctx, a, 0) is { } t ? Binding.Call(ctx, [Binding.To(a[0], t)], t.WithNullable(a[0].Type.IsNullable)) : null,
        (call, k) => call.Type.Kind == TypeKind.Int64
            ? k[0]
            : new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, k, (a, i, o) => o.Append(f(a[0].Float64(i)))),
        (call, v) => v[0] is double d ? f(d) : v[0]);

    private static Fn FloatFn(string name, Func<double, double> f) => new(name, "math", ["x"],
        (ctx, a) => Numeric(ctx, a, 0) is not null ? Binding.Call(ctx, [Binding.To(a[0], DataType.Float64)], DataType.Float64.WithNullable(a[0].Type.IsNullable)) : null,
        (call, k) => new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, k, (a, i, o) => o.Append(f(a[0].Float64(i)))),
        (call, v) => f((double)v[0]!));

    private static Fn Extreme(string name, bool greatest) => new(name, "math", ["x", "y"],
        (ctx, a) =>
        {
            var t = NullFunctions.Unify(ctx, a, 0);
            if (t is null) return null;
            if (!TypeRules.IsOrderable(t))
                return ctx.Error(ErrorCodes.ArgumentTypeMismatch, $"F.{name} needs comparable arguments (numbers, strings, timestamps, dates) but got {t}");
            return Binding.Call(ctx, Binding.ToAll(a, t), t.WithNullable(Binding.AnyNullable(a)));
        },
        (call, k) => new RowLoopKernel<ColumnBuilder>(call.Type, k, (a, i, o) =>
        {
            var kind = call.Type.Kind;
            int best = 0;
            for (int j = 1; j < a.Length && !RowCompare.IsNaN(kind, a[best], i); j++)
            {
                if (RowCompare.IsNaN(kind, a[j], i)) { best = j; continue; }
                int c = RowCompare.Compare(kind, a[j], i, a[best], i);
                if (greatest ? c > 0 : c < 0) best = j;
            }
            o.AppendFrom(a[best], i);
        }),
        (call, v) => v.Skip(1).Aggregate(v[0]!, (b, x) => RowCompare.Pick(b, x!, greatest)),
        minArgs: 1, maxArgs: int.MaxValue);
}
