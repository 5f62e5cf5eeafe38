using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>
/// lower, upper, trim, substr, length, concat, starts_with, ends_with, contains (strings), replace, split_part,
/// regexp_like, regexp_extract, strpos. Kernels work on UTF-8 bytes; indexes count code points (bytes for bytes).
/// </summary>
internal static class StringFunctions
{
    public static readonly Fn Concat = new("concat", "string", ["value", "more"],
        BindConcat,
        (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) =>
        {
            int total = 0;
            foreach (var arg in a) total += arg.Bytes(i).Length;
            var dst = o.Reserve(total);
            int n = 0;
            foreach (var arg in a)
            {
                var b = arg.Bytes(i);
                b.CopyTo(dst[n..]);
                n += b.Length;
            }
            o.Commit(n);
        }),
        (call, v) => call.Type.Kind == TypeKind.Bytes ? v.SelectMany(x => (byte[])x!).ToArray() : string.Concat(v.Select(x => (string)x!)),
        minArgs: 1, maxArgs: int.MaxValue);

    public static IEnumerable<FunctionDef> All()
    {
        yield return CaseFn("lower", false);
        yield return CaseFn("upper", true);
        yield return new Fn("trim", "string", ["s"],
            (ctx, a) => Text(ctx, a, 0) ? Binding.Call(ctx, [Str(a[0])], DataType.String.WithNullable(a[0].Type.IsNullable)) : null,
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) => o.Append(Utf8Text.Trim(a[0].Bytes(i)))),
            (call, v) => ((string)v[0]!).Trim());
        yield return new Fn("substr", "string", ["s", "start", "length"],
            BindSubstr,
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) =>
            {
                var s = a[0].Bytes(i);
                long? len = a.Length > 2 ? a[2].Int64(i) : null;
                if (call.Type.Kind == TypeKind.Bytes || System.Text.Ascii.IsValid(s))
                {
                    var (st, en) = Utf8Text.SliceBounds(s.Length, a[1].Int64(i), len);
                    o.Append(s[st..en]);
                }
                else
                {
                    var (st, en) = Utf8Text.SliceBounds(Utf8Text.CodePointCount(s), a[1].Int64(i), len);
                    int bs = Utf8Text.ByteOffset(s, st);
                    o.Append(s[bs..(bs + Utf8Text.ByteOffset(s[bs..], en - st))]);
                }
            }),
            (call, v) =>
            {
                long? len = v.Length > 2 ? (long)v[2]! : null;
                if (v[0] is byte[] b)
                {
                    var (bs, be) = Utf8Text.SliceBounds(b.Length, (long)v[1]!, len);
                    return b[bs..be];
                }
                var runes = RowCompare.Runes((string)v[0]!);
                var (st, en) = Utf8Text.SliceBounds(runes.Length, (long)v[1]!, len);
                return string.Concat(runes[st..en].Select(r => r.ToString()));
            },
            minArgs: 2);
        yield return new Fn("length", "string", ["s"],
            (ctx, a) => Binding.Expect(ctx, a, 0, "a string or bytes", TypeKind.String, TypeKind.Bytes)
                ? Binding.Call(ctx, [Str(a[0])], DataType.Int64.WithNullable(a[0].Type.IsNullable)) : null,
            (call, k) => new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, call.Arguments[0].Type.Kind == TypeKind.Bytes
                ? (a, i, o) => o.Append(a[0].Bytes(i).Length)
                : (a, i, o) => o.Append(Utf8Text.CodePointCount(a[0].Bytes(i)))),
            (call, v) => v[0] is byte[] b ? b.Length : (long)RowCompare.Runes((string)v[0]!).Length);
        yield return Concat;
        yield return Predicate("starts_with", "prefix", (s, p) => s.StartsWith(p), (s, p) => s.StartsWith(p, StringComparison.Ordinal));
        yield return Predicate("ends_with", "suffix", (s, p) => s.EndsWith(p), (s, p) => s.EndsWith(p, StringComparison.Ordinal));
        yield return new Fn("replace", "string", ["s", "old", "new"],
            (ctx, a) => Text(ctx, a, 0) && Text(ctx, a, 1) && Text(ctx, a, 2)
                ? Binding.Call(ctx, a.Select(Str).ToArray(), DataType.String.WithNullable(Binding.AnyNullable(a))) : null,
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) =>
            {
                var s = a[0].Bytes(i);
                var from = a[1].Bytes(i);
                if (from.IsEmpty) { o.Append(s); return; }
                var to = a[2].Bytes(i);
                int max = s.Length + Math.Max(0, to.Length - from.Length) * Utf8Text.Count(s, from);
                o.Commit(Utf8Text.Replace(s, from, to, o.Reserve(max)));
            }),
            (call, v) => ((string)v[1]!).Length == 0 ? v[0] : ((string)v[0]!).Replace((string)v[1]!, (string)v[2]!, StringComparison.Ordinal));
        yield return new Fn("split_part", "string", ["s", "delimiter", "index"],
            (ctx, a) => Text(ctx, a, 0) && Text(ctx, a, 1) && Binding.Expect(ctx, a, 2, "an int64 index", TypeKind.Int64)
                ? Binding.Call(ctx, [Str(a[0]), Str(a[1]), Binding.To(a[2], DataType.Int64)], DataType.String.WithNullable(true)) : null,
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) =>
            {
                if (Utf8Text.SplitPart(a[0].Bytes(i), a[1].Bytes(i), a[2].Int64(i), out var part)) o.Append(part);
                else o.AppendNull();
            }),
            (call, v) =>
            {
                var parts = ((string)v[0]!).Split((string)v[1]!);
                long idx = (long)v[2]!;
                if (idx < 0) idx += parts.Length;
                return idx >= 0 && idx < parts.Length ? parts[idx] : null;
            });
        yield return new Fn("strpos", "string", ["s", "substring"],
            (ctx, a) => Text(ctx, a, 0) && Text(ctx, a, 1)
                ? Binding.Call(ctx, [Str(a[0]), Str(a[1])], DataType.Int64.WithNullable(Binding.AnyNullable(a))) : null,
            (call, k) => new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, (a, i, o) =>
            {
                var s = a[0].Bytes(i);
                int at = s.IndexOf(a[1].Bytes(i));
                o.Append(at < 0 ? -1 : Utf8Text.CodePointCount(s[..at]));
            }),
            (call, v) =>
            {
                var s = (string)v[0]!;
                int at = s.IndexOf((string)v[1]!, StringComparison.Ordinal);
                return at < 0 ? -1L : RowCompare.Runes(s[..at]).Length;
            });
        yield return new Fn("regexp_like", "string", ["s", "pattern"],
            (ctx, a) => BindRegex(ctx, a, DataType.Bool.WithNullable(a[0].Type.IsNullable)),
            (call, k) => new RowLoopKernel<BoolBuilder>(call.Type, k, (a, i, o) =>
            {
                var chars = Utf8Text.RentChars(a[0].Bytes(i), out int n);
                o.Append(((RegexState)call.State!).Regex.IsMatch(chars.AsSpan(0, n)));
                ArrayPool<char>.Shared.Return(chars);
            }),
            (call, v) => ((RegexState)call.State!).Regex.IsMatch((string)v[0]!));
        yield return new Fn("regexp_extract", "string", ["s", "pattern", "group"],
            (ctx, a) => BindRegex(ctx, a, DataType.String.WithNullable(true)),
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) =>
            {
                var state = (RegexState)call.State!;
                var chars = Utf8Text.RentChars(a[0].Bytes(i), out int n);
                try
                {
                    if (state.Group == 0)
                    {
                        foreach (var m in state.Regex.EnumerateMatches(chars.AsSpan(0, n)))
                        {
                            var hit = chars.AsSpan(m.Index, m.Length);
                            o.Commit(Encoding.UTF8.GetBytes(hit, o.Reserve(Encoding.UTF8.GetMaxByteCount(hit.Length))));
                            return;
                        }
                        o.AppendNull();
                        return;
                    }
                    // .NET exposes capture groups only through Match objects: one string per row for group > 0.
                    var g = state.Regex.Match(new string(chars, 0, n)).Groups[state.Group];
                    if (g.Success) o.Append(Encoding.UTF8.GetBytes(g.Value));
                    else o.AppendNull();
                }
                finally { ArrayPool<char>.Shared.Return(chars); }
            }),
            (call, v) =>
            {
                var state = (RegexState)call.State!;
                var g = state.Regex.Match((string)v[0]!).Groups[state.Group];
                return g.Success ? g.Value : null;
            },
            minArgs: 2);
    }

    internal sealed record RegexState(Regex Regex, int Group);

    private static bool Text(BindContext ctx, BoundExpr[] a, int i) => Binding.Expect(ctx, a, i, "a string", TypeKind.String);

    private static BoundExpr Str(BoundExpr e) => e.Type.Kind == TypeKind.Null ? Binding.To(e, DataType.String) : e;

    private static Fn CaseFn(string name, bool upper) => new(name, "string", ["s"],
        (ctx, a) => Text(ctx, a, 0) ? Binding.Call(ctx, [Str(a[0])], DataType.String.WithNullable(a[0].Type.IsNullable)) : null,
        (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) =>
        {
            var s = a[0].Bytes(i);
            // A case change turns one code point into at most 3 bytes from 2 (and never grows 1-, 3- or 4-byte ones past 4).
            o.Commit(Utf8Text.ChangeCase(s, o.Reserve(s.Length * 2 + 4), upper));
        }),
        (call, v) => upper ? ((string)v[0]!).ToUpperInvariant() : ((string)v[0]!).ToLowerInvariant());

    private delegate bool SpanPredicate(ReadOnlySpan<byte> s, ReadOnlySpan<byte> p);

    private static Fn Predicate(string name, string param, SpanPredicate kernel, Func<string, string, bool> row) => new(name, "string", ["s", param],
        (ctx, a) => Text(ctx, a, 0) && Text(ctx, a, 1)
            ? Binding.Call(ctx, [Str(a[0]), Str(a[1])], DataType.Bool.WithNullable(Binding.AnyNullable(a))) : null,
        (call, k) => new RowLoopKernel<BoolBuilder>(call.Type, k, (a, i, o) => o.Append(kernel(a[0].Bytes(i), a[1].Bytes(i)))),
        (call, v) => row((string)v[0]!, (string)v[1]!));

    /// <summary>contains(s, substring) for strings; the list form lives in ListFunctions.</summary>
    internal static BoundExpr? BindContains(BindContext ctx, BoundExpr[] a) =>
        Text(ctx, a, 1) ? Binding.Call(ctx, [Str(a[0]), Str(a[1])], DataType.Bool.WithNullable(Binding.AnyNullable(a))) : null;

    internal static Kernel ContainsKernel(CallExpr call, Kernel[] k) =>
        new RowLoopKernel<BoolBuilder>(call.Type, k, (a, i, o) => o.Append(a[0].Bytes(i).IndexOf(a[1].Bytes(i)) >= 0));

    internal static object ContainsRow(object?[] v) => ((string)v[0]!).Contains((string)v[1]!, StringComparison.Ordinal);

    private static BoundExpr? BindSubstr(BindContext ctx, BoundExpr[] a)
    {
        if (!Binding.Expect(ctx, a, 0, "a string or bytes", TypeKind.String, TypeKind.Bytes)) return null;
        if (!Binding.Expect(ctx, a, 1, "an int64 start", TypeKind.Int64)) return null;
        var s = Str(a[0]);
        var args = new List<BoundExpr> { s, Binding.To(a[1], DataType.Int64) };
        // A literal None length means "to the end" (F.substr(_, 6, None)); a null length column propagates as usual.
        if (a.Length > 2 && a[2] is not LiteralExpr { Value: null })
        {
            if (!Binding.Expect(ctx, a, 2, "an int64 length or None", TypeKind.Int64)) return null;
            args.Add(a[2]);
        }
        return Binding.Call(ctx, [.. args], s.Type.WithNullable(args.Any(x => x.Type.IsNullable)));
    }

    private static BoundExpr? BindConcat(BindContext ctx, BoundExpr[] a)
    {
        bool bytes = a.Any(x => x.Type.Kind == TypeKind.Bytes);
        var target = bytes ? DataType.Bytes : DataType.String;
        var args = new BoundExpr[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            var t = a[i].Type;
            if (bytes ? t.Kind is not (TypeKind.Bytes or TypeKind.Null) : !Conversions.Exists(t, DataType.String))
                return ctx.ArgumentType(i, t, bytes ? "bytes (all arguments are bytes once one is)" : "a string or a scalar that converts to text");
            args[i] = TypeRules.Coerce(a[i], target);
        }
        return Binding.Call(ctx, args, target.WithNullable(args.Any(x => x.Type.IsNullable)));
    }

    private static BoundExpr? BindRegex(BindContext ctx, BoundExpr[] a, DataType result)
    {
        if (!Text(ctx, a, 0)) return null;
        if (!Binding.Literal<string>(ctx, a, 1, "the pattern", out var pattern)) return null;
        Regex regex;
        try
        {
            // Non-backtracking: linear time whatever the input, so one hostile message cannot stall a partition.
            regex = new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return ctx.Error(ErrorCodes.InvalidRegex, $"invalid regular expression \"{pattern}\": {e.Message}", 1);
        }
        long group = 0;
        if (a.Length > 2)
        {
            if (!Binding.Literal(ctx, a, 2, "the group number", out group)) return null;
            if (group < 0 || group >= regex.GetGroupNumbers().Length)
                return ctx.Error(ErrorCodes.InvalidRegex, $"pattern \"{pattern}\" has no group {group} (groups 0..{regex.GetGroupNumbers().Length - 1})", 2);
        }
        return Binding.Call(ctx, [Str(a[0])], result, new RegexState(regex, (int)group));
    }
}
