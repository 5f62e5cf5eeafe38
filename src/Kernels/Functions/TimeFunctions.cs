using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>from_unix_seconds, from_unix_milliseconds, to_unix_seconds, format_datetime, day_of_week, hour_of_day.</summary>
internal static class TimeFunctions
{
    public static IEnumerable<FunctionDef> All()
    {
        yield return FromUnix("from_unix_seconds", TextFormat.MicrosPerSecond);
        yield return FromUnix("from_unix_milliseconds", 1000);
        yield return new Fn("to_unix_seconds", "time", ["ts"],
            (ctx, a) => Binding.Expect(ctx, a, 0, "a timestamp", TypeKind.Timestamp)
                ? Binding.Call(ctx, [Binding.To(a[0], DataType.Timestamp)], DataType.Float64.WithNullable(Binding.AnyNullable(a))) : null,
            (call, k) => new RowLoopKernel<PrimitiveBuilder<double>>(call.Type, k, (a, i, o) => o.Append(a[0].Int64(i) / 1e6)),
            (call, v) => (long)v[0]! / 1e6);
        yield return new Fn("day_of_week", "time", ["ts"],
            (ctx, a) => Binding.Expect(ctx, a, 0, "a timestamp or date", TypeKind.Timestamp, TypeKind.Date)
                ? Binding.Call(ctx, [Binding.To(a[0], DataType.Timestamp)], DataType.Int64.WithNullable(true)) : null,
            (call, k) => CalendarKernel(call, k, micros =>
            {
                // ISO weekday: 1970-01-01 was a Thursday (4).
                long days = FloorDiv(micros, TextFormat.MicrosPerDay);
                return ((days % 7 + 7 + 3) % 7) + 1;
            }),
            (call, v) => TextFormat.InCalendar((long)v[0]!) ? (long)((int)(TextFormat.ToDateTime((long)v[0]!).DayOfWeek + 6) % 7 + 1) : null);
        yield return new Fn("hour_of_day", "time", ["ts"],
            (ctx, a) => Binding.Expect(ctx, a, 0, "a timestamp", TypeKind.Timestamp)
                ? Binding.Call(ctx, [Binding.To(a[0], DataType.Timestamp)], DataType.Int64.WithNullable(true)) : null,
            (call, k) => CalendarKernel(call, k, micros => FloorDiv(micros, 3_600_000_000L) - FloorDiv(micros, TextFormat.MicrosPerDay) * 24),
            (call, v) => TextFormat.InCalendar((long)v[0]!) ? (long)TextFormat.ToDateTime((long)v[0]!).Hour : null);
        yield return new Fn("format_datetime", "time", ["ts", "format"],
            BindFormat,
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, [k[0]], (a, i, o) =>
            {
                long micros = a[0].Int64(i);
                if (!TextFormat.InCalendar(micros)) { o.AppendNull(); return; }
                var fmt = (DateFormat)call.State!;
                o.Commit(fmt.Write(micros, o.Reserve(fmt.MaxBytes)));
            }),
            (call, v) => TextFormat.InCalendar((long)v[0]!) ? ((DateFormat)call.State!).Format(TextFormat.ToDateTime((long)v[0]!)) : null);
    }

    private static long FloorDiv(long a, long b) => Math.DivRem(a, b, out long r) - (r < 0 ? 1 : 0);

    private static Kernel CalendarKernel(CallExpr call, Kernel[] k, Func<long, long> f) =>
        new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, (a, i, o) =>
        {
            long micros = a[0].Int64(i);
            if (TextFormat.InCalendar(micros)) o.Append(f(micros));
            else o.AppendNull();
        });

    private static Fn FromUnix(string name, long microsPerUnit) => new(name, "time", ["value"],
        (ctx, a) => Binding.Expect(ctx, a, 0, "an int64 or float64 count since the Unix epoch", TypeKind.Int64, TypeKind.Float64)
            ? Binding.Call(ctx, [a[0].Type.Kind == TypeKind.Null ? Binding.To(a[0], DataType.Float64) : a[0]], DataType.Timestamp.WithNullable(true)) : null,
        (call, k) => call.Arguments[0].Type.Kind == TypeKind.Int64
            ? new ArithmeticKernel<long, ScaleI64>(call.Type, k[0], new ConstKernel(new Scalar(DataType.Int64, microsPerUnit)))
            : new FloatToMicrosKernel(call.Type, k[0], microsPerUnit),
        (call, v) => v[0] switch
        {
            long l => ScaleI64.Apply(l, microsPerUnit, out long r) ? r : null,
            double d => FloatToMicrosKernel.Convert(d, microsPerUnit),
            _ => null,
        });

    private static BoundExpr? BindFormat(BindContext ctx, BoundExpr[] a)
    {
        if (!Binding.Expect(ctx, a, 0, "a timestamp or date", TypeKind.Timestamp, TypeKind.Date)) return null;
        if (!Binding.Literal<string>(ctx, a, 1, "the format string (e.g. \"%Y-%m-%d %H:%M:%S\")", out var text)) return null;
        var fmt = DateFormat.TryParse(text, out var error);
        if (fmt is null) return ctx.Error(ErrorCodes.InvalidFormat, error!, 1);
        return Binding.Call(ctx, [Binding.To(a[0], DataType.Timestamp), a[1]], DataType.String.WithNullable(true), fmt);
    }
}

/// <summary>Seconds/milliseconds (int64) to microseconds; overflow is null.</summary>
internal struct ScaleI64 : IBinaryOp<long, long>
{
    public static bool Apply(long a, long b, out long r) => MulI64.Apply(a, b, out r);
}

/// <summary>Float seconds/milliseconds to microseconds, rounded half to even; NaN and out-of-range are null.</summary>
internal sealed class FloatToMicrosKernel(DataType type, Kernel child, long scale) : Kernel(type)
{
    public static long? Convert(double v, long scale)
    {
        double m = Math.Round(v * scale);
        return double.IsNaN(m) || m >= 9.2e18 || m <= -9.2e18 ? null : (long)m;
    }

    public override Value Evaluate(EvalContext ctx)
    {
        var a = child.Evaluate(ctx);
        if (a.IsScalar) return Value.Of(new Scalar(Type, a.Scalar!.Value is double d ? Convert(d, scale) : null));
        int n = ctx.Length;
        var src = Columns.Values<double>(a.Array!);
        var valid = Bitmaps.And(a, n);
        var bytes = new byte[n * 8];
        var r = MemoryMarshal.Cast<byte, long>(bytes.AsSpan());
        double s = scale;
        for (int i = 0; i < r.Length; i++)
        {
            double m = Math.Round(src[i] * s);
            if (m < 9.2e18 && m > -9.2e18) r[i] = (long)m;
            else Bitmaps.Clear(ref valid, i, n); // also NaN: both comparisons are false
        }
        return Value.Of(Columns.Primitive<long>(Type, bytes, valid, n));
    }
}

/// <summary>A strftime-style format compiled once: %Y %m %d %H %M %S %f %j %y %I %p %a %A %b %B %z %Z %F %T %%.</summary>
internal sealed class DateFormat
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private readonly List<(char Directive, byte[]? Literal)> _parts;


    private DateFormat(List<(char, byte[]?)> parts)
    {
        _parts = parts;
        MaxBytes = parts.Sum(p => p.Item2?.Length ?? 12);
    }

    public int MaxBytes { get; }

    public static DateFormat? TryParse(string text, out string? error)
    {
        error = null;
        var parts = new List<(char, byte[]?)>();
        var lit = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '%') { lit.Append(text[i]); continue; }
            if (i + 1 >= text.Length) { error = "format string ends with a lone '%'; write %% for a percent sign"; return null; }
            char d = text[++i];
            if (d == '%') { lit.Append('%'); continue; }
            if (d == 'F') { Flush(); parts.Add(('Y', null)); parts.Add(('\0', "-"u8.ToArray())); parts.Add(('m', null)); parts.Add(('\0', "-"u8.ToArray())); parts.Add(('d', null)); continue; }
            if (d == 'T') { Flush(); parts.Add(('H', null)); parts.Add(('\0', ":"u8.ToArray())); parts.Add(('M', null)); parts.Add(('\0', ":"u8.ToArray())); parts.Add(('S', null)); continue; }
            if ("YmdHMSfjyIpaAbBzZ".IndexOf(d, StringComparison.Ordinal) < 0)
            {
                error = $"unknown directive '%{d}' in format \"{text}\"; supported: %Y %m %d %H %M %S %f %j %y %I %p %a %A %b %B %z %Z %F %T %%";
                return null;
            }
            Flush();
            parts.Add((d, null));
        }
        Flush();
        return new DateFormat(parts);

        void Flush()
        {
            if (lit.Length == 0) return;
            parts.Add(('\0', Encoding.UTF8.GetBytes(lit.ToString())));
            lit.Clear();
        }
    }

    /// <summary>Row reference: formats from a DateTime.</summary>
    public string Format(DateTime t)
    {
        var sb = new StringBuilder();
        foreach (var (d, lit) in _parts)
        {
            if (lit is not null) { sb.Append(Encoding.UTF8.GetString(lit)); continue; }
            sb.Append(d switch
            {
                'Y' => t.Year.ToString("D4", CultureInfo.InvariantCulture),
                'm' => t.Month.ToString("D2", CultureInfo.InvariantCulture),
                'd' => t.Day.ToString("D2", CultureInfo.InvariantCulture),
                'H' => t.Hour.ToString("D2", CultureInfo.InvariantCulture),
                'M' => t.Minute.ToString("D2", CultureInfo.InvariantCulture),
                'S' => t.Second.ToString("D2", CultureInfo.InvariantCulture),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("D6", CultureInfo.InvariantCulture),
                'j' => t.DayOfYear.ToString("D3", CultureInfo.InvariantCulture),
                'y' => (t.Year % 100).ToString("D2", CultureInfo.InvariantCulture),
                'I' => ((t.Hour + 11) % 12 + 1).ToString("D2", CultureInfo.InvariantCulture),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'a' => Days[(int)t.DayOfWeek][..3],
                'A' => Days[(int)t.DayOfWeek],
                'b' => Months[t.Month - 1][..3],
                'B' => Months[t.Month - 1],
                'z' => "+0000",
                _ => "UTC",
            });
        }
        return sb.ToString();
    }

    /// <summary>Kernel form: writes the UTF-8 text of a calendar-range instant into <paramref name="dst"/>.</summary>
    public int Write(long micros, Span<byte> dst)
    {
        long days = Math.DivRem(micros, TextFormat.MicrosPerDay, out long rem);
        if (rem < 0) { days--; rem += TextFormat.MicrosPerDay; }
        var date = DateOnly.FromDayNumber(TextFormat.EpochDayNumber + (int)days);
        int hour = (int)(rem / 3_600_000_000L), minute = (int)(rem / 60_000_000L % 60), second = (int)(rem / 1_000_000 % 60);
        int frac = (int)(rem % 1_000_000);
        int n = 0;
        foreach (var (d, lit) in _parts)
        {
            if (lit is not null) { lit.CopyTo(dst[n..]); n += lit.Length; continue; }
            switch (d)
            {
                case 'Y': n += Digits(date.Year, 4, dst[n..]); break;
                case 'm': n += Digits(date.Month, 2, dst[n..]); break;
                case 'd': n += Digits(date.Day, 2, dst[n..]); break;
                case 'H': n += Digits(hour, 2, dst[n..]); break;
                case 'M': n += Digits(minute, 2, dst[n..]); break;
                case 'S': n += Digits(second, 2, dst[n..]); break;
                case 'f': n += Digits(frac, 6, dst[n..]); break;
                case 'j': n += Digits(date.DayOfYear, 3, dst[n..]); break;
                case 'y': n += Digits(date.Year % 100, 2, dst[n..]); break;
                case 'I': n += Digits((hour + 11) % 12 + 1, 2, dst[n..]); break;
                case 'p': n += Ascii(hour < 12 ? "AM" : "PM", dst[n..]); break;
                case 'a': n += Ascii(Days[(int)date.DayOfWeek].AsSpan(0, 3), dst[n..]); break;
                case 'A': n += Ascii(Days[(int)date.DayOfWeek], dst[n..]); break;
                case 'b': n += Ascii(Months[date.Month - 1].AsSpan(0, 3), dst[n..]); break;
                case 'B': n += Ascii(Months[date.Month - 1], dst[n..]); break;
                case 'z': n += Ascii("+0000", dst[n..]); break;
                default: n += Ascii("UTC", dst[n..]); break;
            }
        }
        return n;
    }

    private static int Digits(int v, int width, Span<byte> dst)
    {
        for (int i = width - 1; i >= 0; i--) { dst[i] = (byte)('0' + v % 10); v /= 10; }
        return width;
    }

    private static int Ascii(ReadOnlySpan<char> s, Span<byte> dst)
    {
        for (int i = 0; i < s.Length; i++) dst[i] = (byte)s[i];
        return s.Length;
    }
}
