using Apache.Arrow;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>
/// Conversions between Arrow arrays and the row form used by the row interpreter, tests and encoders:
/// int64/enum -> long, float64 -> double, bool -> bool, string -> string, bytes -> byte[],
/// timestamp -> long (microseconds UTC), date -> int (days), list -> object?[], struct -> object?[] (field order).
/// </summary>
internal static class ArrowValues
{
    /// <summary>The value of row <paramref name="i"/> of <paramref name="array"/>, in row form.</summary>
    public static object? GetRow(IArrowArray array, int i, DataType type)
    {
        if (array.IsNull(i)) return null;
        switch (type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum or TypeKind.Timestamp: return ((PrimitiveArray<long>)array).Values[i];
            case TypeKind.Float64: return ((DoubleArray)array).Values[i];
            case TypeKind.Date: return ((Date32Array)array).Values[i];
            case TypeKind.Bool: return ((BooleanArray)array).GetValue(i);
            case TypeKind.String: return ((StringArray)array).GetString(i);
            case TypeKind.Bytes: return ((BinaryArray)array).GetBytes(i).ToArray();
            case TypeKind.List:
            {
                var list = (ListArray)array;
                int start = list.ValueOffsets[i], end = list.ValueOffsets[i + 1];
                var items = new object?[end - start];
                for (int k = 0; k < items.Length; k++) items[k] = GetRow(list.Values, start + k, type.Element!);
                return items;
            }
            case TypeKind.Struct:
            {
                var s = (StructArray)array;
                var fields = new object?[type.Fields.Length];
                // Arrow's StructArray.Fields are already sliced to the struct's own offset.
                for (int f = 0; f < fields.Length; f++) fields[f] = GetRow(s.Fields[f], i, type.Fields[f].Type);
                return fields;
            }
            case TypeKind.Null: return null;
            default: throw new NotSupportedException(type.ToString());
        }
    }

    /// <summary>An Arrow array of <paramref name="type"/> holding <paramref name="rows"/> (row form).</summary>
    public static IArrowArray FromRows(IReadOnlyList<object?> rows, DataType type)
    {
        var b = ColumnBuilder.Create(type, rows.Count);
        foreach (var r in rows) b.AppendRow(r);
        return b.Build();
    }

    internal static IArrowArray Primitive(DataType type, ArrowBuffer values, ArrowBuffer nulls, int n, int nullCount) => type.Kind switch
    {
        TypeKind.Int64 or TypeKind.Enum or TypeKind.Null => new Int64Array(values, nulls, n, nullCount, 0),
        TypeKind.Float64 => new DoubleArray(values, nulls, n, nullCount, 0),
        TypeKind.Timestamp => new TimestampArray(DataType.ArrowTimestamp, values, nulls, n, nullCount, 0),
        TypeKind.Date => new Date32Array(values, nulls, n, nullCount, 0),
        _ => throw new NotSupportedException(type.ToString()),
    };

    /// <summary>The same values with validity ANDed with <paramref name="extraValidity"/> (offset-0 bitmap, null = all valid).</summary>
    internal static IArrowArray WithValidity(IArrowArray array, byte[]? extraValidity)
    {
        if (extraValidity is null) return array;
        var own = ValidityView.Of(array).ToBitmap(array.Length);
        var bits = (byte[])extraValidity.Clone();
        if (own is not null) for (int k = 0; k < bits.Length; k++) bits[k] &= own[k];
        int nulls = Bitmaps.CountNulls(bits, array.Length);
        if (array.Offset != 0) array = Compact(array);
        var buffers = array.Data.Buffers.ToArray();
        buffers[0] = new ArrowBuffer(bits);
        var data = new ArrayData(array.Data.DataType, array.Length, nulls, 0, buffers, array.Data.Children, array.Data.Dictionary);
        return ArrowArrayFactory.BuildArray(data);
    }

    /// <summary>A copy with offset 0 (needed before replacing the validity buffer of a sliced array).</summary>
    private static IArrowArray Compact(IArrowArray array)
    {
        var type = TypeOf(array.Data.DataType);
        var b = ColumnBuilder.Create(type, array.Length);
        for (int i = 0; i < array.Length; i++) b.AppendRow(GetRow(array, i, type));
        return b.Build();
    }

    /// <summary>The Sluice type of an Arrow type (structs get a placeholder name).</summary>
    internal static DataType TypeOf(Apache.Arrow.Types.IArrowType t) => t switch
    {
        Apache.Arrow.Types.Int64Type => DataType.Int64,
        Apache.Arrow.Types.DoubleType => DataType.Float64,
        Apache.Arrow.Types.BooleanType => DataType.Bool,
        Apache.Arrow.Types.StringType => DataType.String,
        Apache.Arrow.Types.BinaryType => DataType.Bytes,
        Apache.Arrow.Types.TimestampType => DataType.Timestamp,
        Apache.Arrow.Types.Date32Type => DataType.Date,
        Apache.Arrow.Types.ListType l => DataType.ListOf(TypeOf(l.ValueDataType).WithNullable(l.ValueField.IsNullable)),
        Apache.Arrow.Types.StructType s => DataType.StructOf("struct", s.Fields.Select(f => new StructField(f.Name, TypeOf(f.DataType).WithNullable(f.IsNullable)))),
        _ => throw new NotSupportedException(t.Name),
    };
}
