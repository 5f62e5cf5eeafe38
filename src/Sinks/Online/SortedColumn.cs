using System.Globalization;
using Apache.Arrow;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// One feature column of a batch gathered into a given row order and into the shape SQLite binds (integers, reals,
/// text or blob bytes, JSON text), so that binding a row is an array read. Stored forms: int64, enum, timestamp micros,
/// date days and bool 0/1 as integers; float64 as a real (non-finite ones as text, since SQLite turns NaN into NULL);
/// string as text; bytes as a blob; lists and structs as JSON text. <see cref="SqliteOnlineStore"/> reads them back.
/// </summary>
internal abstract class SortedColumn
{
    /// <summary>Binds row <paramref name="i"/> (of the gathered order) to parameter <paramref name="index"/> of a statement handle.</summary>
    public abstract int Bind(IntPtr stmt, int index, int i);

    /// <summary>Row <paramref name="i"/> as text, as errors and <c>sluice get</c> name a primary key.</summary>
    public abstract string Text(int i);

    /// <summary>The rows of <paramref name="column"/> at <paramref name="order"/>, in that order.</summary>
    public static SortedColumn Gather(IArrowArray column, int[] order, DataType type)
    {
        var nulls = column.NullCount == 0 ? null : order.Select(column.IsNull).ToArray();
        switch (column)
        {
            case Int64Array a: return Integers.Of(a.Values, order, nulls);
            case TimestampArray a: return Integers.Of(a.Values, order, nulls);
            case Date32Array a: return new Integers(order.Select(r => (long)a.Values[r]).ToArray(), nulls);
            case Int32Array a: return new Integers(order.Select(r => (long)a.Values[r]).ToArray(), nulls);
            case BooleanArray a: return new Integers(order.Select(r => a.GetValue(r) == true ? 1L : 0L).ToArray(), nulls);
            case DoubleArray a: return new Reals(order.Select(r => a.Values[r]).ToArray(), nulls);
            case StringArray a: return Bytes.Of(a, order, nulls, isText: true);
            case BinaryArray a: return Bytes.Of(a, order, nulls, isText: false);
            default: return Bytes.OfText(order.Select(r => column.IsNull(r) ? "" : FeatureJson.ToJson(column, r, type)).ToArray(), nulls);
        }
    }

    /// <summary>Integers (and what is stored as one).</summary>
    public sealed class Integers(long[] values, bool[]? nulls) : SortedColumn
    {
        /// <summary>The values in gathered order; a null's slot holds whatever the source held (long.MinValue for int64, as keys sort).</summary>
        public long[] Values { get; } = values;

        public static Integers Of(ReadOnlySpan<long> source, int[] order, bool[]? nulls)
        {
            var values = new long[order.Length];
            for (int i = 0; i < order.Length; i++) values[i] = nulls is not null && nulls[i] ? long.MinValue : source[order[i]];
            return new Integers(values, nulls);
        }

        public override int Bind(IntPtr stmt, int index, int i) =>
            nulls is not null && nulls[i] ? SqliteNative.BindNull(stmt, index) : SqliteNative.BindInt64(stmt, index, Values[i]);

        public override string Text(int i) => nulls is not null && nulls[i] ? "null" : Values[i].ToString(CultureInfo.InvariantCulture);
    }

    private sealed class Reals(double[] values, bool[]? nulls) : SortedColumn
    {
        public override int Bind(IntPtr stmt, int index, int i)
        {
            if (nulls is not null && nulls[i]) return SqliteNative.BindNull(stmt, index);
            double v = values[i];
            return double.IsFinite(v) ? SqliteNative.BindDouble(stmt, index, v) : SqliteNative.BindText(stmt, index, System.Text.Encoding.UTF8.GetBytes(TextFormat.Float(v)));
        }

        public override string Text(int i) => nulls is not null && nulls[i] ? "null" : TextFormat.Float(values[i]);
    }

    /// <summary>Text or blob bytes, packed into one buffer.</summary>
    public sealed class Bytes(byte[] data, int[] offsets, bool[]? nulls, bool isText) : SortedColumn
    {
        public bool IsText { get; } = isText;

        public static Bytes Of(BinaryArray source, int[] order, bool[]? nulls, bool isText)
        {
            var offsets = new int[order.Length + 1];
            var sourceOffsets = source.ValueOffsets;
            for (int i = 0; i < order.Length; i++) offsets[i + 1] = offsets[i] + sourceOffsets[order[i] + 1] - sourceOffsets[order[i]];
            var data = new byte[offsets[^1]];
            var values = source.Values;
            for (int i = 0; i < order.Length; i++)
                values[sourceOffsets[order[i]]..sourceOffsets[order[i] + 1]].CopyTo(data.AsSpan(offsets[i]));
            return new Bytes(data, offsets, nulls, isText);
        }

        /// <summary>The bytes of row <paramref name="i"/>.</summary>
        public ReadOnlySpan<byte> Span(int i) => data.AsSpan(offsets[i], offsets[i + 1] - offsets[i]);

        /// <summary>A text column of already gathered values (JSON of lists and structs); a null's slot holds "".</summary>
        public static Bytes OfText(string[] values, bool[]? nulls)
        {
            var offsets = new int[values.Length + 1];
            var encoded = values.Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
            for (int i = 0; i < values.Length; i++) offsets[i + 1] = offsets[i] + encoded[i].Length;
            var data = new byte[offsets[^1]];
            for (int i = 0; i < values.Length; i++) encoded[i].CopyTo(data, offsets[i]);
            return new Bytes(data, offsets, nulls, isText: true);
        }

        public override int Bind(IntPtr stmt, int index, int i)
        {
            if (nulls is not null && nulls[i]) return SqliteNative.BindNull(stmt, index);
            return IsText ? SqliteNative.BindText(stmt, index, Span(i)) : SqliteNative.BindBlob(stmt, index, Span(i));
        }

        public override string Text(int i) => nulls is not null && nulls[i] ? "null"
            : IsText ? System.Text.Encoding.UTF8.GetString(Span(i)) : Convert.ToBase64String(Span(i));
    }
}
