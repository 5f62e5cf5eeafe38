using System.Buffers;
using System.Globalization;
using System.Text;
using System.Runtime.CompilerServices;

namespace Sluice.Kernels.Functions;

/// <summary>
/// The one text form of each scalar type (used by F.cast(x, string), F.concat and JSON output), and the
/// parsers of text back into values. Floats print like Python (1.0, 1e+20, nan, inf); timestamps as ISO-8601 UTC
/// (<c>2023-11-14T22:13:20Z</c>, with 6 fraction digits only when there is a fraction); dates as <c>yyyy-MM-dd</c>.
/// </summary>
internal static class TextFormat
{
    public const long MicrosPerSecond = 1_000_000;
    public const long MicrosPerDay = 86_400_000_000;
    /// <summary>Timestamps outside years 1..9999 have no calendar form; calendar functions yield null for them.</summary>
    public static readonly long MinCalendarMicros = (DateTime.MinValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;
    public static readonly long MaxCalendarMicros = (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    public static bool InCalendar(long micros) => micros >= MinCalendarMicros && micros <= MaxCalendarMicros;

    public static DateTime ToDateTime(long micros) => new(DateTime.UnixEpoch.Ticks + micros * 10, DateTimeKind.Utc);

    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        var s = d.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        return s.Contains('.') || s.Contains('e') ? s : s + ".0";
    }

    public static int WriteFloat(double d, Span<byte> dst)
    {
        if (double.IsNaN(d)) return Copy("nan"u8, dst);
        if (double.IsPositiveInfinity(d)) return Copy("inf"u8, dst);
        if (double.IsNegativeInfinity(d)) return Copy("-inf"u8, dst);
        d.TryFormat(dst, out int n, "R", CultureInfo.InvariantCulture);
        bool hasDotOrE = false;
        for (int i = 0; i < n; i++)
        {
            if (dst[i] == (byte)'E') dst[i] = (byte)'e';
            if (dst[i] is (byte)'.' or (byte)'e') hasDotOrE = true;
        }
        if (!hasDotOrE) { dst[n++] = (byte)'.'; dst[n++] = (byte)'0'; }
        return n;
    }

    public static string? Timestamp(long micros)
    {
        if (!InCalendar(micros)) return null;
        var dt = ToDateTime(micros);
        long frac = ((micros % MicrosPerSecond) + MicrosPerSecond) % MicrosPerSecond;
        return dt.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) +
               (frac == 0 ? "" : "." + frac.ToString("D6", CultureInfo.InvariantCulture)) + "Z";
    }

    /// <summary>Writes the ISO form; returns -1 when the instant has no calendar form.</summary>
    // Runs per message: optimized from its first call, rather than after tiering up (a short run spent its first seconds
    // in unoptimized code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int WriteTimestamp(long micros, Span<byte> dst)
    {
        if (!InCalendar(micros)) return -1;
        ToDateTime(micros).TryFormat(dst, out int n, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        long frac = ((micros % MicrosPerSecond) + MicrosPerSecond) % MicrosPerSecond;
        if (frac != 0)
        {
            dst[n++] = (byte)'.';
            frac.TryFormat(dst[n..], out int w, "D6", CultureInfo.InvariantCulture);
            n += w;
        }
        dst[n++] = (byte)'Z';
        return n;
    }

    public static string Date(int days) => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + days)
        .ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static int WriteDate(int days, Span<byte> dst)
    {
        DateOnly.FromDayNumber(EpochDayNumber + days).TryFormat(dst, out int n, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return n;
    }

    public static readonly int EpochDayNumber = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
    public static readonly int MinDateDays = DateOnly.MinValue.DayNumber - EpochDayNumber;
    public static readonly int MaxDateDays = DateOnly.MaxValue.DayNumber - EpochDayNumber;

    public static bool DateInRange(long days) => days >= MinDateDays && days <= MaxDateDays;

    private static int Copy(ReadOnlySpan<byte> s, Span<byte> dst)
    {
        s.CopyTo(dst);
        return s.Length;
    }

    // ---- parsing text into values (shared definition: cast from string, JSON timestamps) ----

    public static bool TryParseInt64(ReadOnlySpan<byte> utf8, out long v) =>
        long.TryParse(utf8, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);

    public static bool TryParseFloat64(ReadOnlySpan<byte> utf8, out double v)
    {
        if (double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return true;
        Span<byte> lower = stackalloc byte[16];
        if (utf8.Length > lower.Length) return false;
        int n = System.Text.Ascii.ToLower(utf8, lower, out int w) == OperationStatus.Done ? w : -1;
        if (n < 0) return false;
        var l = lower[..n];
        if (l.SequenceEqual("nan"u8)) { v = double.NaN; return true; }
        if (l.SequenceEqual("inf"u8) || l.SequenceEqual("+inf"u8) || l.SequenceEqual("infinity"u8)) { v = double.PositiveInfinity; return true; }
        if (l.SequenceEqual("-inf"u8) || l.SequenceEqual("-infinity"u8)) { v = double.NegativeInfinity; return true; }
        return false;
    }

    public static bool TryParseBool(ReadOnlySpan<byte> utf8, out bool v)
    {
        if (Ascii.EqualsIgnoreCase(utf8, "true"u8) || utf8.SequenceEqual("1"u8)) { v = true; return true; }
        if (Ascii.EqualsIgnoreCase(utf8, "false"u8) || utf8.SequenceEqual("0"u8)) { v = false; return true; }
        v = false;
        return false;
    }

    /// <summary>ISO-8601 (offset or Z; none means UTC) into microseconds.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> utf8, out long micros)
    {
        micros = 0;
        if (utf8.Length is 0 or > 64) return false;
        Span<char> chars = stackalloc char[64];
        if (!Encoding.UTF8.TryGetChars(utf8, chars, out int n)) return false;
        if (!DateTimeOffset.TryParse(chars[..n], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto)) return false;
        micros = (dto.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;
        return true;
    }

    /// <summary><c>yyyy-MM-dd</c> into days since the epoch.</summary>
    public static bool TryParseDate(ReadOnlySpan<byte> utf8, out int days)
    {
        days = 0;
        if (utf8.Length != 10) return false;
        Span<char> chars = stackalloc char[10];
        for (int i = 0; i < 10; i++) chars[i] = (char)utf8[i];
        if (!DateOnly.TryParseExact(chars, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return false;
        days = d.DayNumber - EpochDayNumber;
        return true;
    }
}
