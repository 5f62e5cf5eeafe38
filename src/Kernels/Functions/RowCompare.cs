using System.Text;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>
/// Ordering and equality of scalar values shared by greatest/least, array_max/min and contains:
/// numbers by value (a NaN wins max/min, as Math.Max does), strings by code point, bytes lexicographically.
/// </summary>
internal static class RowCompare
{
    /// <summary>Kernel side: compares row i of column/scalar a with row j of b, both of kind <paramref name="kind"/>.</summary>
    public static int Compare(TypeKind kind, Arg a, int i, Arg b, int j) => kind switch
    {
        TypeKind.Int64 or TypeKind.Timestamp or TypeKind.Enum => a.Int64(i).CompareTo(b.Int64(j)),
        TypeKind.Float64 => a.Float64(i).CompareTo(b.Float64(j)),
        TypeKind.Date => a.Date(i).CompareTo(b.Date(j)),
        TypeKind.Bool => a.Bool(i).CompareTo(b.Bool(j)),
        _ => a.Bytes(i).SequenceCompareTo(b.Bytes(j)),
    };

    public static bool IsNaN(TypeKind kind, Arg a, int i) => kind == TypeKind.Float64 && double.IsNaN(a.Float64(i));

    /// <summary>Kernel side, elements of one column.</summary>
    public static int Compare(TypeKind kind, IArrowArray values, int i, int j) => kind switch
    {
        TypeKind.Int64 or TypeKind.Timestamp or TypeKind.Enum => Columns.Values<long>(values)[i].CompareTo(Columns.Values<long>(values)[j]),
        TypeKind.Float64 => Columns.Values<double>(values)[i].CompareTo(Columns.Values<double>(values)[j]),
        TypeKind.Date => Columns.Values<int>(values)[i].CompareTo(Columns.Values<int>(values)[j]),
        TypeKind.Bool => ((BooleanArray)values).GetValue(i)!.Value.CompareTo(((BooleanArray)values).GetValue(j)!.Value),
        _ => ((BinaryArray)values).GetBytes(i).SequenceCompareTo(((BinaryArray)values).GetBytes(j)),
    };

    /// <summary>Kernel side, element j of a column against row i of an argument.</summary>
    public static int Compare(TypeKind kind, IArrowArray values, int j, Arg b, int i) => kind switch
    {
        TypeKind.Int64 or TypeKind.Timestamp or TypeKind.Enum => Columns.Values<long>(values)[j].CompareTo(b.Int64(i)),
        TypeKind.Float64 => Columns.Values<double>(values)[j].CompareTo(b.Float64(i)),
        TypeKind.Date => Columns.Values<int>(values)[j].CompareTo(b.Date(i)),
        TypeKind.Bool => ((BooleanArray)values).GetValue(j)!.Value.CompareTo(b.Bool(i)),
        _ => ((BinaryArray)values).GetBytes(j).SequenceCompareTo(b.Bytes(i)),
    };

    public static bool IsNaN(TypeKind kind, IArrowArray values, int i) => kind == TypeKind.Float64 && double.IsNaN(Columns.Values<double>(values)[i]);

    /// <summary>Row side: the greater (or lesser) of two non-null row values; a NaN wins.</summary>
    public static object Pick(object best, object x, bool greatest)
    {
        if (best is double bd && double.IsNaN(bd)) return best;
        if (x is double xd && double.IsNaN(xd)) return x;
        int c = CompareRow(x, best);
        return (greatest ? c > 0 : c < 0) ? x : best;
    }

    public static int CompareRow(object a, object b) => (a, b) switch
    {
        (long x, long y) => x.CompareTo(y),
        (double x, double y) => x.CompareTo(y),
        (int x, int y) => x.CompareTo(y),
        (bool x, bool y) => x.CompareTo(y),
        (string x, string y) => CompareCodePoints(x, y),
        (byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y),
        _ => throw new InvalidOperationException($"cannot compare {a.GetType().Name} with {b.GetType().Name}"),
    };

    /// <summary>Equality as == does it (IEEE for floats: NaN is not equal to itself).</summary>
    public static bool EqualsRow(object a, object b) => (a, b) switch
    {
        (double x, double y) => x == y,
        (string x, string y) => x == y,
        (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
        _ => a.Equals(b),
    };

    private static int CompareCodePoints(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            bool ha = ea.MoveNext(), hb = eb.MoveNext();
            if (!ha || !hb) return ha.CompareTo(hb);
            int c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }

    public static Rune[] Runes(string s) => s.EnumerateRunes().ToArray();
}
