using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Unicode;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Parsing;

/// <summary>
/// A JSON scanner specialized to one schema, for the shape most messages have: known fields, strings without escapes,
/// plain numbers. It accepts only input that is valid JSON and gives exactly what the <c>Utf8JsonReader</c> path gives;
/// anything else (escapes, unknown fields, timestamps, errors of any kind) makes it return false, and the caller rolls
/// the builders back and parses the message with the general path, which also words the errors.
/// </summary>
internal ref struct JsonFastScanner
{
    private readonly ReadOnlySpan<byte> _s;
    private int _p;

    private JsonFastScanner(ReadOnlySpan<byte> s)
    {
        _s = s;
        _p = 0;
    }

    // Runs per message: optimized from its first call, rather than after tiering up (a short run spent its first seconds
    // in unoptimized code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParse(ReadOnlySpan<byte> json, JsonSchemaNode root, ColumnBuilder builder)
    {
        var sc = new JsonFastScanner(json);
        if (!sc.Value(root, builder)) return false;
        sc.SkipWhitespace();
        return sc._p == json.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SkipWhitespace()
    {
        while (_p < _s.Length && _s[_p] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') _p++;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Value(JsonSchemaNode node, ColumnBuilder b)
    {
        SkipWhitespace();
        if (_p >= _s.Length) return false;
        if (_s[_p] == (byte)'n')
        {
            if (!node.Nullable || !_s[_p..].StartsWith("null"u8)) return false;
            _p += 4;
            b.AppendNull();
            return true;
        }
        switch (node.Kind)
        {
            case TypeKind.Struct: return Object(node, Unsafe.As<StructBuilder>(b));
            case TypeKind.Int64:
                if (!Int64(out long l)) return false;
                Unsafe.As<PrimitiveBuilder<long>>(b).Append(l);
                return true;
            case TypeKind.Float64:
                if (!Float64(out double d)) return false;
                Unsafe.As<PrimitiveBuilder<double>>(b).Append(d);
                return true;
            case TypeKind.String:
                if (!String(out var str)) return false;
                Unsafe.As<BinaryBuilder>(b).Append(str);
                return true;
            case TypeKind.Bool:
                if (_s[_p..].StartsWith("true"u8)) { _p += 4; Unsafe.As<BoolBuilder>(b).Append(true); return true; }
                if (_s[_p..].StartsWith("false"u8)) { _p += 5; Unsafe.As<BoolBuilder>(b).Append(false); return true; }
                return false;
            case TypeKind.List: return Array(node, Unsafe.As<ListBuilder>(b));
            default: return false; // timestamps, dates, bytes, enums: the general path
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Object(JsonSchemaNode node, StructBuilder b)
    {
        if (_s[_p] != (byte)'{') return false;
        _p++;
        var names = node.Names;
        int count = names.Length;
        if (count > 64 || !node.PlainNames) return false;
        ulong seen = 0;
        int expected = 0;
        SkipWhitespace();
        if (_p < _s.Length && _s[_p] == (byte)'}') _p++;
        else
        {
            while (true)
            {
                SkipWhitespace();
                if (_p >= _s.Length || _s[_p] != (byte)'"') return false;
                int idx = -1;
                // Messages usually list fields in schema order: try the next one first. Names of plain structs hold no
                // quote or backslash (see JsonSchemaNode.PlainNames), so an in-place match is an exact key match.
                if (expected < count && Key(names[expected])) idx = expected;
                else
                    for (int k = 0; k < count; k++)
                        if (Key(names[k])) { idx = k; break; }
                if (idx < 0 || (seen & (1UL << idx)) != 0) return false; // unknown or repeated field
                SkipWhitespace();
                if (_p >= _s.Length || _s[_p] != (byte)':') return false;
                _p++;
                if (!Value(node.Children[idx], b.Children[idx])) return false;
                seen |= 1UL << idx;
                expected = idx + 1;
                SkipWhitespace();
                if (_p >= _s.Length) return false;
                if (_s[_p] == (byte)',') { _p++; continue; }
                if (_s[_p] == (byte)'}') { _p++; break; }
                return false;
            }
        }
        ulong all = count == 64 ? ulong.MaxValue : (1UL << count) - 1;
        if (seen != all)
            for (int k = 0; k < count; k++)
            {
                if ((seen & (1UL << k)) != 0) continue;
                if (!node.Children[k].Nullable) return false;
                b.Children[k].AppendNull();
            }
        b.EndStruct();
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Array(JsonSchemaNode node, ListBuilder b)
    {
        if (_s[_p] != (byte)'[') return false;
        _p++;
        SkipWhitespace();
        if (_p < _s.Length && _s[_p] == (byte)']')
        {
            _p++;
            b.EndList();
            return true;
        }
        while (true)
        {
            if (!Value(node.Children[0], b.Child)) return false;
            SkipWhitespace();
            if (_p >= _s.Length) return false;
            if (_s[_p] == (byte)',') { _p++; continue; }
            if (_s[_p] == (byte)']') { _p++; b.EndList(); return true; }
            return false;
        }
    }

    /// <summary>A string without escapes or control characters, as valid UTF-8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool String(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_p >= _s.Length || _s[_p] != (byte)'"') return false;
        // One scalar pass: message strings are short, where three vectorized scans cost more than they save.
        int start = _p + 1, q = start;
        byte high = 0;
        while (true)
        {
            if (q >= _s.Length) return false;
            byte c = _s[q];
            if (c == (byte)'"') break;
            if (c == (byte)'\\' || c < 0x20) return false;
            high |= c;
            q++;
        }
        value = _s[start..q];
        if (high >= 0x80 && !Utf8.IsValid(value)) return false;
        _p = q + 1;
        return true;
    }

    /// <summary>Matches the key at the cursor against a field name in place; on success the cursor is past the closing quote.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Key(byte[] name)
    {
        int end = _p + 1 + name.Length;
        if (end >= _s.Length || _s[end] != (byte)'"' || !_s.Slice(_p + 1, name.Length).SequenceEqual(name)) return false;
        _p = end + 1;
        return true;
    }

    /// <summary>A JSON integer (no fraction or exponent) that fits int64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Int64(out long value)
    {
        value = 0;
        int p = _p;
        bool negative = p < _s.Length && _s[p] == (byte)'-';
        if (negative) p++;
        int start = p;
        ulong acc = 0;
        while (p < _s.Length && (uint)(_s[p] - '0') <= 9)
        {
            if (p - start >= 19) return false; // 20+ digits: let the general path decide
            acc = acc * 10 + (uint)(_s[p] - '0');
            p++;
        }
        int digits = p - start;
        if (digits == 0 || (digits > 1 && _s[start] == (byte)'0')) return false;
        if (p < _s.Length && _s[p] is (byte)'.' or (byte)'e' or (byte)'E') return false;
        if (negative ? acc > 9_223_372_036_854_775_808UL : acc > long.MaxValue) return false;
        value = negative ? (long)(0 - acc) : (long)acc;
        _p = p;
        return true;
    }

    /// <summary>A JSON number in full grammar, converted as Utf8JsonReader.TryGetDouble does (correctly rounded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Float64(out double value)
    {
        value = 0;
        int p = _p;
        if (p < _s.Length && _s[p] == (byte)'-') p++;
        int intStart = p;
        while (p < _s.Length && (uint)(_s[p] - '0') <= 9) p++;
        if (p == intStart || (p - intStart > 1 && _s[intStart] == (byte)'0')) return false;
        if (p < _s.Length && _s[p] == (byte)'.')
        {
            int f = ++p;
            while (p < _s.Length && (uint)(_s[p] - '0') <= 9) p++;
            if (p == f) return false;
        }
        if (p < _s.Length && _s[p] is (byte)'e' or (byte)'E')
        {
            p++;
            if (p < _s.Length && _s[p] is (byte)'+' or (byte)'-') p++;
            int e = p;
            while (p < _s.Length && (uint)(_s[p] - '0') <= 9) p++;
            if (p == e) return false;
        }
        if (!double.TryParse(_s[_p..p], NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !double.IsFinite(value)) return false;
        _p = p;
        return true;
    }
}
