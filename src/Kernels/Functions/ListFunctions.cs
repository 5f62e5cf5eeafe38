using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>array_count, element_at (0-based, negative from the end), array_sum, array_max, array_min, contains.</summary>
internal static class ListFunctions
{
    public static IEnumerable<FunctionDef> All()
    {
        yield return new Fn("array_count", "list", ["list"],
            (ctx, a) => IsList(ctx, a, 0) ? Binding.Call(ctx, a, DataType.Int64.WithNullable(a[0].Type.IsNullable)) : null,
            (call, k) => new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, (a, i, o) => { var (_, s, e) = a[0].List(i); o.Append(e - s); }),
            (call, v) => (long)((object?[])v[0]!).Length);
        yield return new Fn("element_at", "list", ["list", "index"],
            (ctx, a) => IsList(ctx, a, 0) && Binding.Expect(ctx, a, 1, "an int64 index", TypeKind.Int64)
                ? Binding.Call(ctx, [a[0], Binding.To(a[1], DataType.Int64)], a[0].Type.Element!.WithNullable(true)) : null,
            (call, k) => new RowLoopKernel<ColumnBuilder>(call.Type, k, (a, i, o) =>
            {
                var (values, s, e) = a[0].List(i);
                long idx = a[1].Int64(i);
                if (idx < 0) idx += e - s;
                if (idx < 0 || idx >= e - s) o.AppendNull();
                else o.AppendFrom(values, s + (int)idx);
            }),
            (call, v) =>
            {
                var list = (object?[])v[0]!;
                long idx = (long)v[1]!;
                if (idx < 0) idx += list.Length;
                return idx >= 0 && idx < list.Length ? list[idx] : null;
            });
        yield return new Fn("array_sum", "list", ["list"],
            (ctx, a) =>
            {
                if (!IsList(ctx, a, 0)) return null;
                var e = a[0].Type.Element!;
                if (!e.IsNumeric) return ctx.ArgumentType(0, a[0].Type, "a list of numbers");
                return Binding.Call(ctx, a, e.WithNullable(a[0].Type.IsNullable || e.Kind == TypeKind.Int64));
            },
            (call, k) => call.Type.Kind == TypeKind.Int64
                ? new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, (a, i, o) =>
                {
                    var (values, s, e) = a[0].List(i);
                    var span = Columns.Values<long>(values);
                    long sum = 0;
                    for (int j = s; j < e; j++)
                        if (values.IsValid(j) && !AddI64.Apply(sum, span[j], out sum)) { o.AppendNull(); return; }
                    o.Append(sum);
                })
                : new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, k, (a, i, o) =>
                {
                    var (values, s, e) = a[0].List(i);
                    var span = Columns.Values<double>(values);
                    double sum = 0;
                    for (int j = s; j < e; j++) if (values.IsValid(j)) sum += span[j];
                    o.Append(sum);
                }),
            (call, v) =>
            {
                var items = ((object?[])v[0]!).Where(x => x is not null);
                if (call.Type.Kind == TypeKind.Float64) return items.Sum(x => (double)x!);
                long sum = 0;
                foreach (var x in items)
                {
                    try { sum = checked(sum + (long)x!); }
                    catch (OverflowException) { return null; }
                }
                return sum;
            });
        yield return Extreme("array_max", true);
        yield return Extreme("array_min", false);
        yield return new Fn("contains", "list", ["haystack", "needle"],
            BindContains,
            (call, k) => call.Arguments[0].Type.Kind == TypeKind.List
                ? new RowLoopKernel<BoolBuilder>(call.Type, k, (a, i, o) =>
                {
                    var (values, s, e) = a[0].List(i);
                    var kind = call.Arguments[1].Type.Kind;
                    for (int j = s; j < e; j++)
                        if (values.IsValid(j) && !RowCompare.IsNaN(kind, values, j) && RowCompare.Compare(kind, values, j, a[1], i) == 0) { o.Append(true); return; }
                    o.Append(false);
                })
                : StringFunctions.ContainsKernel(call, k),
            (call, v) => v[0] is object?[] list
                ? list.Any(x => x is not null && RowCompare.EqualsRow(x, v[1]!))
                : StringFunctions.ContainsRow(v));
    }

    private static bool IsList(BindContext ctx, BoundExpr[] a, int i) => Binding.Expect(ctx, a, i, "a list", TypeKind.List) && a[i].Type.Kind == TypeKind.List;

    private static BoundExpr? BindContains(BindContext ctx, BoundExpr[] a)
    {
        if (a[0].Type.Kind == TypeKind.String) return StringFunctions.BindContains(ctx, a);
        if (a[0].Type.Kind != TypeKind.List) return ctx.ArgumentType(0, a[0].Type, "a list or a string");
        var e = a[0].Type.Element!;
        if (!TypeRules.IsOrderable(e) || TypeRules.Unify(e, a[1].Type) is not { } t || !t.SameShape(e.WithNullable(t.IsNullable)))
            return ctx.ArgumentType(1, a[1].Type, $"a value of the list's element type {e}");
        return Binding.Call(ctx, [a[0], Binding.To(a[1], e)], DataType.Bool.WithNullable(Binding.AnyNullable(a)));
    }

    private static Fn Extreme(string name, bool greatest) => new(name, "list", ["list"],
        (ctx, a) =>
        {
            if (!IsList(ctx, a, 0)) return null;
            if (!TypeRules.IsOrderable(a[0].Type.Element!)) return ctx.ArgumentType(0, a[0].Type, "a list of comparable values");
            return Binding.Call(ctx, a, a[0].Type.Element!.WithNullable(true));
        },
        (call, k) => new RowLoopKernel<ColumnBuilder>(call.Type, k, (a, i, o) =>
        {
            var (values, s, e) = a[0].List(i);
            var kind = call.Type.Kind;
            int best = -1;
            for (int j = s; j < e; j++)
            {
                if (!values.IsValid(j)) continue;
                if (best < 0 || RowCompare.IsNaN(kind, values, j)) { best = j; if (RowCompare.IsNaN(kind, values, j)) break; continue; }
                int c = RowCompare.Compare(kind, values, j, best);
                if (greatest ? c > 0 : c < 0) best = j;
            }
            if (best < 0) o.AppendNull();
            else o.AppendFrom(values, best);
        }),
        (call, v) =>
        {
            var items = ((object?[])v[0]!).Where(x => x is not null).ToList();
            return items.Count == 0 ? null : items.Skip(1).Aggregate(items[0]!, (b, x) => RowCompare.Pick(b, x!, greatest));
        });
}
