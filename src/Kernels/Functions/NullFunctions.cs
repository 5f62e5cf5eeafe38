using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>coalesce, is_null, if_then_else: the functions that look at nulls rather than propagate them.</summary>
internal static class NullFunctions
{
    public static readonly Fn IsNull = new("is_null", "null", ["value"],
        (ctx, a) => Binding.Call(ctx, a, DataType.Bool),
        (call, k) => new RowLoopKernel<BoolBuilder>(call.Type, k, (a, i, o) => o.Append(!a[0].IsValid(i)), propagateNulls: false),
        (call, v) => v[0] is null,
        propagatesNulls: false);

    public static IEnumerable<FunctionDef> All()
    {
        yield return new Fn("coalesce", "null", ["value", "fallback"],
            (ctx, a) => Unify(ctx, a, 0) is { } t
                ? Binding.Call(ctx, Binding.ToAll(a, t), t.WithNullable(a.All(x => x.Type.IsNullable))) : null,
            (call, k) => new RowLoopKernel<ColumnBuilder>(call.Type, k, (a, i, o) =>
            {
                foreach (var arg in a)
                    if (arg.IsValid(i)) { o.AppendFrom(arg, i); return; }
                o.AppendNull();
            }, propagateNulls: false),
            (call, v) => v.FirstOrDefault(x => x is not null),
            minArgs: 1, maxArgs: int.MaxValue, propagatesNulls: false);
        yield return IsNull;
        yield return new Fn("if_then_else", "null", ["condition", "if_true", "if_false"],
            (ctx, a) =>
            {
                if (!Binding.Expect(ctx, a, 0, "a bool", TypeKind.Bool)) return null;
                var t = Unify(ctx, a, 1);
                return t is null ? null : Binding.Call(ctx, [Binding.To(a[0], DataType.Bool), Binding.To(a[1], t), Binding.To(a[2], t)], t);
            },
            (call, k) => new RowLoopKernel<ColumnBuilder>(call.Type, k, (a, i, o) =>
                o.AppendFrom(a[0].IsValid(i) && a[0].Bool(i) ? a[1] : a[2], i), propagateNulls: false),
            (call, v) => v[0] is true ? v[1] : v[2],
            propagatesNulls: false);
    }

    /// <summary>The common type of arguments from <paramref name="first"/> on; reports the first that does not fit.</summary>
    internal static DataType? Unify(BindContext ctx, BoundExpr[] a, int first)
    {
        var t = a[first].Type;
        for (int i = first + 1; i < a.Length; i++)
        {
            var u = TypeRules.Unify(t, a[i].Type);
            if (u is null)
            {
                ctx.Error(ErrorCodes.IncompatibleTypes,
                    $"F.{ctx.Function.Name} needs arguments of one type but argument {i + 1} is {a[i].Type} where {t} came before; convert with F.cast", i);
                return null;
            }
            t = u;
        }
        return t.Kind == TypeKind.Null ? DataType.Int64.WithNullable(true) : t;
    }
}
