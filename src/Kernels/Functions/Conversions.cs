using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>
/// Every conversion between types (F.cast and implicit promotion): which exist, which can fail (a failed row is null),
/// the kernel and the row reference.
/// </summary>
internal static class Conversions
{
    private static bool IsScalarKind(TypeKind k) => k is TypeKind.Int64 or TypeKind.Float64 or TypeKind.Bool or TypeKind.String
        or TypeKind.Bytes or TypeKind.Timestamp or TypeKind.Date or TypeKind.Enum;

    public static bool Exists(DataType from, DataType to)
    {
        if (from.Kind == TypeKind.Null || from.SameShape(to)) return true;
        var (f, t) = (from.Kind, to.Kind);
        if (t == TypeKind.String) return IsScalarKind(f);
        if (f == TypeKind.String) return t is TypeKind.Int64 or TypeKind.Float64 or TypeKind.Bool or TypeKind.Timestamp or TypeKind.Date or TypeKind.Bytes;
        return (f, t) switch
        {
            (TypeKind.Int64, TypeKind.Float64 or TypeKind.Bool or TypeKind.Timestamp) => true,
            (TypeKind.Float64, TypeKind.Int64) => true,
            (TypeKind.Bool, TypeKind.Int64 or TypeKind.Float64) => true,
            (TypeKind.Timestamp, TypeKind.Int64 or TypeKind.Date) => true,
            (TypeKind.Date, TypeKind.Timestamp or TypeKind.Int64) => true,
            (TypeKind.Enum, TypeKind.Int64) => true,
            _ => false,
        };
    }

    /// <summary>Whether a non-null input can give a null output.</summary>
    public static bool MayFail(DataType from, DataType to) => !from.SameShape(to) && (from.Kind, to.Kind) switch
    {
        (TypeKind.Int64, TypeKind.Float64 or TypeKind.Bool or TypeKind.Timestamp or TypeKind.String) => false,
        (TypeKind.Bool, _) => false,
        (TypeKind.Enum, _) => false,
        (TypeKind.Date, TypeKind.Timestamp or TypeKind.Int64 or TypeKind.String) => false,
        (TypeKind.Timestamp, TypeKind.Int64) => false,
        (TypeKind.Float64, TypeKind.String) => false,
        (TypeKind.String, TypeKind.String or TypeKind.Bytes) => false,
        _ => true,
    };

    public static Kernel CreateKernel(DataType from, DataType to, Kernel child)
    {
        if (from.Kind == TypeKind.Null || from.SameShape(to)) return child;
        if (from.Kind == TypeKind.Int64 && to.Kind == TypeKind.Float64) return new IntToFloatKernel(to, child);
        var (f, t) = (from.Kind, to.Kind);
        Kernel[] c = [child];
        switch (t)
        {
            case TypeKind.String:
                return new RowLoopKernel<BinaryBuilder>(to, c, f switch
                {
                    TypeKind.Int64 or TypeKind.Enum => (a, i, o) => { var s = o.Reserve(20); a[0].Int64(i).TryFormat(s, out int n, provider: System.Globalization.CultureInfo.InvariantCulture); o.Commit(n); },
                    TypeKind.Float64 => (a, i, o) => o.Commit(TextFormat.WriteFloat(a[0].Float64(i), o.Reserve(32))),
                    TypeKind.Bool => (a, i, o) => o.Append(a[0].Bool(i) ? "true"u8 : "false"u8),
                    TypeKind.Timestamp => (a, i, o) => { int n = TextFormat.WriteTimestamp(a[0].Int64(i), o.Reserve(32)); if (n < 0) o.AppendNull(); else o.Commit(n); },
                    TypeKind.Date => (a, i, o) => o.Commit(TextFormat.WriteDate(a[0].Date(i), o.Reserve(16))),
                    _ => (a, i, o) => { var b = a[0].Bytes(i); if (Utf8.IsValid(b)) o.Append(b); else o.AppendNull(); }, // bytes
                });
            case TypeKind.Bytes: // from string: same bytes
                return new RowLoopKernel<BinaryBuilder>(to, c, (a, i, o) => o.Append(a[0].Bytes(i)));
            case TypeKind.Int64:
                return new RowLoopKernel<PrimitiveBuilder<long>>(to, c, f switch
                {
                    TypeKind.Float64 => (a, i, o) => { if (FloatToInt(a[0].Float64(i)) is { } v) o.Append(v); else o.AppendNull(); },
                    TypeKind.Bool => (a, i, o) => o.Append(a[0].Bool(i) ? 1 : 0),
                    TypeKind.Date => (a, i, o) => o.Append(a[0].Date(i)),
                    TypeKind.String => (a, i, o) => { if (TextFormat.TryParseInt64(a[0].Bytes(i), out var v)) o.Append(v); else o.AppendNull(); },
                    _ => (a, i, o) => o.Append(a[0].Int64(i)), // timestamp micros, enum number
                });
            case TypeKind.Float64:
                return new RowLoopKernel<PrimitiveBuilder<double>>(to, c, f switch
                {
                    TypeKind.Bool => (a, i, o) => o.Append(a[0].Bool(i) ? 1.0 : 0.0),
                    _ => (a, i, o) => { if (TextFormat.TryParseFloat64(a[0].Bytes(i), out var v)) o.Append(v); else o.AppendNull(); },
                });
            case TypeKind.Bool:
                return new RowLoopKernel<BoolBuilder>(to, c, f switch
                {
                    TypeKind.Int64 => (a, i, o) => o.Append(a[0].Int64(i) != 0),
                    _ => (a, i, o) => { if (TextFormat.TryParseBool(a[0].Bytes(i), out var v)) o.Append(v); else o.AppendNull(); },
                });
            case TypeKind.Timestamp:
                return new RowLoopKernel<PrimitiveBuilder<long>>(to, c, f switch
                {
                    TypeKind.Int64 => (a, i, o) => o.Append(a[0].Int64(i)),
                    TypeKind.Date => (a, i, o) => o.Append(a[0].Date(i) * TextFormat.MicrosPerDay),
                    _ => (a, i, o) => { if (TextFormat.TryParseTimestamp(a[0].Bytes(i), out var v)) o.Append(v); else o.AppendNull(); },
                });
            case TypeKind.Date:
                return new RowLoopKernel<PrimitiveBuilder<int>>(to, c, f switch
                {
                    TypeKind.Timestamp => (a, i, o) => { long d = Math.DivRem(a[0].Int64(i), TextFormat.MicrosPerDay, out long rem) - (rem < 0 ? 1 : 0); if (TextFormat.DateInRange(d)) o.Append((int)d); else o.AppendNull(); },
                    _ => (a, i, o) => { if (TextFormat.TryParseDate(a[0].Bytes(i), out var v)) o.Append(v); else o.AppendNull(); },
                });
        }
        throw new InvalidOperationException($"no conversion from {from} to {to}");
    }

    private static long? FloatToInt(double d) =>
        double.IsNaN(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0 ? null : (long)d;

    /// <summary>Row reference for every conversion.</summary>
    public static object? Row(object? v, DataType from, DataType to)
    {
        if (v is null) return null;
        if (from.Kind == TypeKind.Null || from.SameShape(to)) return v;
        switch (to.Kind)
        {
            case TypeKind.String:
                return from.Kind switch
                {
                    TypeKind.Int64 or TypeKind.Enum => ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    TypeKind.Float64 => TextFormat.Float((double)v),
                    TypeKind.Bool => (bool)v ? "true" : "false",
                    TypeKind.Timestamp => TextFormat.Timestamp((long)v),
                    TypeKind.Date => TextFormat.Date((int)v),
                    _ => DecodeStrict((byte[])v),
                };
            case TypeKind.Bytes: return Encoding.UTF8.GetBytes((string)v);
            case TypeKind.Int64:
                return from.Kind switch
                {
                    TypeKind.Float64 => FloatToInt((double)v),
                    TypeKind.Bool => (bool)v ? 1L : 0L,
                    TypeKind.Date => (long)(int)v,
                    TypeKind.String => long.TryParse((string)v, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l) ? l : null,
                    _ => (long)v,
                };
            case TypeKind.Float64:
                return from.Kind switch
                {
                    TypeKind.Int64 => (double)(long)v,
                    TypeKind.Bool => (bool)v ? 1.0 : 0.0,
                    _ => TextFormat.TryParseFloat64(Encoding.UTF8.GetBytes((string)v), out var d) ? d : null,
                };
            case TypeKind.Bool:
                return from.Kind == TypeKind.Int64 ? (long)v != 0
                    : ((string)v).ToLowerInvariant() switch { "true" or "1" => true, "false" or "0" => false, _ => null };
            case TypeKind.Timestamp:
                return from.Kind switch
                {
                    TypeKind.Int64 => v,
                    TypeKind.Date => (int)v * TextFormat.MicrosPerDay,
                    _ => TextFormat.TryParseTimestamp(Encoding.UTF8.GetBytes((string)v), out var t) ? t : null,
                };
            case TypeKind.Date:
                if (from.Kind == TypeKind.Timestamp)
                {
                    long micros = (long)v;
                    long d = micros / TextFormat.MicrosPerDay;
                    if (micros % TextFormat.MicrosPerDay < 0) d--; // floor, not truncation, before 1970
                    return TextFormat.DateInRange(d) ? (int)d : null;
                }
                return TextFormat.TryParseDate(Encoding.UTF8.GetBytes((string)v), out var days) ? days : null;
        }
        throw new InvalidOperationException($"no conversion from {from} to {to}");
    }

    private static string? DecodeStrict(byte[] b) => Utf8.IsValid(b) ? Encoding.UTF8.GetString(b) : null;
}

/// <summary>int64 -> float64, the promotion every mixed arithmetic needs; a plain loop, validity shared.</summary>
internal sealed class IntToFloatKernel(DataType type, Kernel child) : Kernel(type)
{
    public override Value Evaluate(EvalContext ctx)
    {
        var a = child.Evaluate(ctx);
        if (a.IsScalar) return Value.Of(new Scalar(Type, a.Scalar!.Value is long l ? (double)l : null));
        int n = ctx.Length;
        var src = Columns.Values<long>(a.Array!);
        var bytes = new byte[n * 8];
        var r = MemoryMarshal.Cast<byte, double>(bytes.AsSpan());
        for (int i = 0; i < r.Length; i++) r[i] = src[i];
        return Value.Of(Columns.Primitive<double>(Type, bytes, Bitmaps.And(a, n), n));
    }
}
