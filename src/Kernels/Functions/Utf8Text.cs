using System.Buffers;
using System.Text;

namespace Sluice.Kernels.Functions;

/// <summary>Allocation-free text operations on UTF-8 bytes, with ASCII fast paths. Indexes are code points.</summary>
internal static class Utf8Text
{
    public static int CodePointCount(ReadOnlySpan<byte> s)
    {
        if (Ascii.IsValid(s)) return s.Length;
        int n = 0;
        foreach (var b in s) if ((b & 0xC0) != 0x80) n++;
        return n;
    }

    /// <summary>Byte offset of code point <paramref name="cp"/> (0..count).</summary>
    public static int ByteOffset(ReadOnlySpan<byte> s, int cp)
    {
        int seen = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if ((s[i] & 0xC0) == 0x80) continue;
            if (seen == cp) return i;
            seen++;
        }
        return s.Length;
    }

    /// <summary>
    /// The [start, end) window of F.substr over a value of <paramref name="n"/> units: 0-based; a negative start
    /// counts from the end; a missing length runs to the end; a negative length is empty. Shared by kernel and row code.
    /// </summary>
    public static (int Start, int End) SliceBounds(int n, long start, long? length)
    {
        if (start < 0) start += n;
        start = Math.Clamp(start, 0, n);
        long end = length is null ? n : length < 0 ? start : Math.Min(n, start + length.Value);
        return ((int)start, (int)end);
    }

    public static int ChangeCase(ReadOnlySpan<byte> src, Span<byte> dst, bool upper)
    {
        if (Ascii.IsValid(src))
        {
            _ = upper ? Ascii.ToUpper(src, dst, out int w) : Ascii.ToLower(src, dst, out w);
            return w;
        }
        int n = 0;
        while (!src.IsEmpty)
        {
            Rune.DecodeFromUtf8(src, out var r, out int used);
            src = src[used..];
            var c = upper ? Rune.ToUpperInvariant(r) : Rune.ToLowerInvariant(r);
            n += c.EncodeToUtf8(dst[n..]);
        }
        return n;
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> s)
    {
        while (!s.IsEmpty)
        {
            Rune.DecodeFromUtf8(s, out var r, out int used);
            if (!Rune.IsWhiteSpace(r)) break;
            s = s[used..];
        }
        while (!s.IsEmpty)
        {
            Rune.DecodeLastFromUtf8(s, out var r, out int used);
            if (!Rune.IsWhiteSpace(r)) break;
            s = s[..^used];
        }
        return s;
    }

    public static int Replace(ReadOnlySpan<byte> s, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Span<byte> dst)
    {
        int n = 0;
        while (true)
        {
            int at = s.IndexOf(from);
            if (at < 0) break;
            s[..at].CopyTo(dst[n..]);
            n += at;
            to.CopyTo(dst[n..]);
            n += to.Length;
            s = s[(at + from.Length)..];
        }
        s.CopyTo(dst[n..]);
        return n + s.Length;
    }

    public static int Count(ReadOnlySpan<byte> s, ReadOnlySpan<byte> what)
    {
        int c = 0;
        while (true)
        {
            int at = s.IndexOf(what);
            if (at < 0) return c;
            c++;
            s = s[(at + what.Length)..];
        }
    }

    /// <summary>Part <paramref name="index"/> of <paramref name="s"/> split by a non-empty delimiter, or false when out of range.</summary>
    public static bool SplitPart(ReadOnlySpan<byte> s, ReadOnlySpan<byte> delim, long index, out ReadOnlySpan<byte> part)
    {
        part = default;
        int parts = delim.IsEmpty ? 1 : Count(s, delim) + 1;
        if (index < 0) index += parts;
        if (index < 0 || index >= parts) return false;
        if (delim.IsEmpty) { part = s; return true; }
        for (long k = 0; k < index; k++) s = s[(s.IndexOf(delim) + delim.Length)..];
        int end = s.IndexOf(delim);
        part = end < 0 ? s : s[..end];
        return true;
    }

    /// <summary>Decodes into a pooled char buffer for APIs (Regex) that need UTF-16; return it with <see cref="ArrayPool{T}"/>.</summary>
    public static char[] RentChars(ReadOnlySpan<byte> s, out int length)
    {
        // Pooled: the buffer never leaves the row it was rented for.
        var buf = ArrayPool<char>.Shared.Rent(Math.Max(16, s.Length));
        length = Encoding.UTF8.GetChars(s, buf);
        return buf;
    }
}
