using System.Numerics;
using Apache.Arrow;
using Array = System.Array;

namespace Sluice.Kernels.Execution;

/// <summary>Read view of an Arrow validity bitmap; an empty view means "all valid".</summary>
internal readonly ref struct ValidityView
{
    private readonly ReadOnlySpan<byte> _bits;
    private readonly int _offset;

    public ValidityView(ReadOnlySpan<byte> bits, int offset, bool allNull)
    {
        _bits = bits;
        _offset = offset;
        AllNull = allNull;
    }

    /// <summary>True when every row is null (a null scalar).</summary>
    public bool AllNull { get; }
    /// <summary>True when no row is null.</summary>
    public bool AllValid => !AllNull && _bits.IsEmpty;

    public bool IsValid(int i)
    {
        if (AllNull) return false;
        if (_bits.IsEmpty) return true;
        int j = i + _offset;
        return (_bits[j >> 3] & (1 << (j & 7))) != 0;
    }

    public static ValidityView Of(IArrowArray a) =>
        a.NullCount == 0 ? default
        : a.NullCount == a.Length ? new ValidityView(default, 0, allNull: true)
        : new ValidityView(a.Data.Buffers[0].Span, a.Offset, false);

    public static ValidityView Of(in Value v) => v.IsScalar ? (v.Scalar!.IsNull ? new ValidityView(default, 0, true) : default) : Of(v.Array!);

    /// <summary>Copies this view (rows 0..n) into a new offset-0 bitmap, or null when all valid.</summary>
    public byte[]? ToBitmap(int n)
    {
        if (AllValid) return null;
        var result = new byte[(n + 7) >> 3];
        if (AllNull) return result;
        if ((_offset & 7) == 0) _bits.Slice(_offset >> 3, result.Length).CopyTo(result);
        else for (int i = 0; i < n; i++) if (IsValid(i)) result[i >> 3] |= (byte)(1 << (i & 7));
        return result;
    }
}

internal static class Bitmaps
{
    /// <summary>The AND of several validities over n rows; null when all valid. A fresh, writable bitmap.</summary>
    public static byte[]? And(ReadOnlySpan<Value> values, int n)
    {
        byte[]? result = null;
        foreach (ref readonly var v in values)
        {
            var view = ValidityView.Of(v);
            if (view.AllValid) continue;
            if (result is null) { result = view.ToBitmap(n)!; continue; }
            if (view.AllNull) { Array.Clear(result); continue; }
            var other = view.ToBitmap(n)!;
            for (int i = 0; i < result.Length; i++) result[i] &= other[i];
        }
        return result;
    }

    public static byte[]? And(in Value a, int n) => ValidityView.Of(a).ToBitmap(n);

    public static byte[]? And(in Value a, in Value b, int n)
    {
        ReadOnlySpan<Value> vs = [a, b];
        return And(vs, n);
    }

    public static bool Get(byte[]? bits, int i) => bits is null || (bits[i >> 3] & (1 << (i & 7))) != 0;

    public static void Clear(ref byte[]? bits, int i, int n)
    {
        if (bits is null)
        {
            bits = new byte[(n + 7) >> 3];
            bits.AsSpan().Fill(0xFF);
        }
        bits[i >> 3] &= (byte)~(1 << (i & 7));
    }

    public static int CountNulls(byte[]? bits, int n)
    {
        if (bits is null) return 0;
        int valid = 0, full = n >> 3;
        for (int i = 0; i < full; i++) valid += BitOperations.PopCount(bits[i]);
        for (int i = full << 3; i < n; i++) if ((bits[i >> 3] & (1 << (i & 7))) != 0) valid++;
        return n - valid;
    }

    public static ArrowBuffer ToBuffer(byte[]? bits) => bits is null ? ArrowBuffer.Empty : new ArrowBuffer(bits);
}
