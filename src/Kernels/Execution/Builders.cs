using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Array = System.Array;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Execution;

/// <summary>
/// Appendable column of one Sluice type, building an immutable Arrow array. Builders can be truncated back to an
/// earlier length: the JSON parse kernel uses that to drop a half-parsed bad message without failing the batch.
/// </summary>
internal abstract class ColumnBuilder(DataType type)
{
    public DataType Type { get; } = type;
    protected readonly ValidityBuilder Validity = new();
    public int Length => Validity.Length;

    public abstract void AppendNull();
    public abstract void Truncate(int length);
    /// <summary>Hands the buffers to a new array and resets the builder.</summary>
    public abstract IArrowArray Build();

    public static ColumnBuilder Create(DataType type, int capacity) => type.Kind switch
    {
        TypeKind.Int64 or TypeKind.Enum => new PrimitiveBuilder<long>(type, capacity),
        TypeKind.Timestamp => new PrimitiveBuilder<long>(type, capacity),
        TypeKind.Float64 => new PrimitiveBuilder<double>(type, capacity),
        TypeKind.Date => new PrimitiveBuilder<int>(type, capacity),
        TypeKind.Bool => new BoolBuilder(type, capacity),
        TypeKind.String or TypeKind.Bytes => new BinaryBuilder(type, capacity, capacity * 16),
        TypeKind.List => new ListBuilder(type, capacity),
        TypeKind.Struct => new StructBuilder(type, capacity),
        TypeKind.Null => new PrimitiveBuilder<long>(DataType.Int64.WithNullable(true), capacity),
        _ => throw new NotSupportedException(type.ToString()),
    };

    /// <summary>Appends a value in row form (see <see cref="ArrowValues"/>).</summary>
    public abstract void AppendRow(object? value);

    /// <summary>Appends row <paramref name="i"/> of a column of this builder's type (no boxing for fixed-width values).</summary>
    public abstract void AppendFrom(IArrowArray source, int i);

    /// <summary>Appends row <paramref name="i"/> of an argument, column or scalar.</summary>
    public void AppendFrom(Arg arg, int i)
    {
        if (arg.Array is not null) AppendFrom(arg.Array, i);
        else AppendRow(arg.ScalarValue);
    }
}

/// <summary>Validity bits, allocated only when the first null arrives.</summary>
internal sealed class ValidityBuilder
{
    private byte[]? _bits;
    public int Length { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AppendValid()
    {
        if (_bits is not null) SetSlow(true);
        else Length++;
    }

    public void AppendNull()
    {
        if (_bits is null)
        {
            _bits = new byte[Math.Max(8, (Length + 8) >> 2)];
            for (int i = 0; i < Length; i++) _bits[i >> 3] |= (byte)(1 << (i & 7));
        }
        SetSlow(false);
    }

    private void SetSlow(bool valid)
    {
        if ((Length >> 3) >= _bits!.Length) Array.Resize(ref _bits, _bits.Length * 2);
        if (valid) _bits[Length >> 3] |= (byte)(1 << (Length & 7));
        else _bits[Length >> 3] &= (byte)~(1 << (Length & 7));
        Length++;
    }

    public void Truncate(int length)
    {
        if (_bits is not null)
            for (int i = length; i < Length; i++) _bits[i >> 3] &= (byte)~(1 << (i & 7));
        Length = length;
    }

    public (ArrowBuffer Buffer, int NullCount) Build()
    {
        var bits = _bits;
        int n = Length;
        _bits = null;
        Length = 0;
        if (bits is null) return (ArrowBuffer.Empty, 0);
        int nulls = Bitmaps.CountNulls(bits, n);
        return nulls == 0 ? (ArrowBuffer.Empty, 0) : (new ArrowBuffer(bits), nulls);
    }
}

/// <summary>Fixed-width values (int64, float64, timestamp, date, enum) in a growable byte array.</summary>
internal sealed class PrimitiveBuilder<T>(DataType type, int capacity) : ColumnBuilder(type) where T : unmanaged, IEquatable<T>
{
    private byte[] _data = new byte[Math.Max(capacity, 4) * Unsafe.SizeOf<T>()];
    private int _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(T value)
    {
        int at = _count * Unsafe.SizeOf<T>();
        if (at + Unsafe.SizeOf<T>() > _data.Length) Grow();
        Unsafe.WriteUnaligned(ref _data[at], value);
        _count++;
        Validity.AppendValid();
    }

    private void Grow() => Array.Resize(ref _data, Math.Max(64, _data.Length * 2));

    public override void AppendNull()
    {
        Append(default);
        Validity.Truncate(Validity.Length - 1);
        Validity.AppendNull();
    }

    public override void Truncate(int length)
    {
        _count = length;
        Validity.Truncate(length);
    }

    public override void AppendRow(object? value)
    {
        if (value is null) AppendNull();
        else Append((T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture));
    }

    public override void AppendFrom(IArrowArray source, int i)
    {
        if (source.IsNull(i)) AppendNull();
        else Append(((PrimitiveArray<T>)source).Values[i]);
    }

    public override IArrowArray Build()
    {
        var (nulls, nullCount) = Validity.Build();
        var values = new ArrowBuffer(new ReadOnlyMemory<byte>(_data, 0, _count * Unsafe.SizeOf<T>()));
        int n = _count;
        _data = []; // a builder is rarely reused after Build; grow again on demand
        _count = 0;
        return ArrowValues.Primitive(Type, values, nulls, n, nullCount);
    }
}

/// <summary>Booleans, bit-packed as Arrow stores them.</summary>
internal sealed class BoolBuilder(DataType type, int capacity) : ColumnBuilder(type)
{
    private byte[] _bits = new byte[Math.Max(8, (capacity + 7) >> 3)];
    private int _count;

    public void Append(bool value)
    {
        if ((_count >> 3) >= _bits.Length) Array.Resize(ref _bits, Math.Max(8, _bits.Length * 2));
        if (value) _bits[_count >> 3] |= (byte)(1 << (_count & 7));
        else _bits[_count >> 3] &= (byte)~(1 << (_count & 7));
        _count++;
        Validity.AppendValid();
    }

    public override void AppendNull()
    {
        Append(false);
        Validity.Truncate(Validity.Length - 1);
        Validity.AppendNull();
    }

    public override void Truncate(int length)
    {
        _count = length;
        Validity.Truncate(length);
    }

    public override void AppendRow(object? value)
    {
        if (value is null) AppendNull();
        else Append((bool)value);
    }

    public override void AppendFrom(IArrowArray source, int i)
    {
        if (source.IsNull(i)) AppendNull();
        else Append(((BooleanArray)source).GetValue(i)!.Value);
    }

    public override IArrowArray Build()
    {
        var (nulls, nullCount) = Validity.Build();
        var bits = _bits;
        int n = _count;
        _bits = new byte[1];
        _count = 0;
        return new BooleanArray(new ArrowBuffer(bits), nulls, n, nullCount, 0);
    }
}

/// <summary>Variable-length strings or bytes: int32 offsets and one data buffer.</summary>
internal sealed class BinaryBuilder : ColumnBuilder
{
    private byte[] _offsets;
    private byte[] _data;
    private int _count;
    private int _dataLength;

    public BinaryBuilder(DataType type, int capacity, int dataCapacity) : base(type)
    {
        _offsets = new byte[(Math.Max(capacity, 4) + 1) * 4];
        _data = GC.AllocateUninitializedArray<byte>(Math.Max(dataCapacity, 64));
    }

    public int DataLength => _dataLength;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Append(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Reserve(value.Length));
        Commit(value.Length);
    }

    /// <summary>A writable span of at least <paramref name="maxBytes"/> at the end of the data; follow with <see cref="Commit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> Reserve(int maxBytes)
    {
        if (_dataLength + maxBytes > _data.Length) GrowData(_dataLength + maxBytes);
        return _data.AsSpan(_dataLength, maxBytes);
    }

    // Only the bytes the offsets cover are ever read, so the data buffer need not be zeroed (a batch of 4,096 Kafka
    // payloads grows it past the large-object threshold, where zeroing showed in the consuming thread's profile).
    private void GrowData(int needed)
    {
        var grown = GC.AllocateUninitializedArray<byte>(Math.Max(needed, _data.Length * 2));
        _data.AsSpan(0, _dataLength).CopyTo(grown);
        _data = grown;
    }

    /// <summary>Ends a value of <paramref name="written"/> bytes started with <see cref="Reserve"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Commit(int written)
    {
        _dataLength += written;
        int at = (_count + 1) * 4;
        if (at + 4 > _offsets.Length) Array.Resize(ref _offsets, Math.Max(64, _offsets.Length * 2));
        Unsafe.WriteUnaligned(ref _offsets[at], _dataLength);
        _count++;
        Validity.AppendValid();
    }

    public override void AppendNull()
    {
        Commit(0);
        Validity.Truncate(Validity.Length - 1);
        Validity.AppendNull();
    }

    public override void Truncate(int length)
    {
        _count = length;
        _dataLength = Unsafe.ReadUnaligned<int>(ref _offsets[length * 4]);
        Validity.Truncate(length);
    }

    public override void AppendRow(object? value)
    {
        switch (value)
        {
            case null: AppendNull(); break;
            case string s: Append(System.Text.Encoding.UTF8.GetBytes(s)); break;
            case byte[] b: Append(b); break;
            default: throw new ArgumentException($"cannot append {value.GetType().Name} to {Type}");
        }
    }

    public override void AppendFrom(IArrowArray source, int i)
    {
        if (source.IsNull(i)) AppendNull();
        else Append(((BinaryArray)source).GetBytes(i));
    }

    public override IArrowArray Build()
    {
        var (nulls, nullCount) = Validity.Build();
        int n = _count;
        var offsets = new ArrowBuffer(new ReadOnlyMemory<byte>(_offsets, 0, (n + 1) * 4));
        var data = new ArrowBuffer(new ReadOnlyMemory<byte>(_data, 0, _dataLength));
        _offsets = new byte[8];
        _data = [];
        _count = 0;
        _dataLength = 0;
        return Type.Kind == TypeKind.String
            ? new StringArray(n, offsets, data, nulls, nullCount, 0)
            : new BinaryArray(Type.ToArrow(), n, offsets, data, nulls, nullCount, 0);
    }
}

/// <summary>Lists: offsets into one child column.</summary>
internal sealed class ListBuilder : ColumnBuilder
{
    private int[] _offsets;
    private int _count;

    public ListBuilder(DataType type, int capacity) : base(type)
    {
        Child = Create(type.Element!, capacity * 4);
        _offsets = new int[Math.Max(capacity, 4) + 1];
    }

    public ColumnBuilder Child { get; }

    /// <summary>Closes a list whose elements were appended to <see cref="Child"/> since the previous one.</summary>
    public void EndList()
    {
        if (_count + 2 > _offsets.Length) Array.Resize(ref _offsets, Math.Max(16, _offsets.Length * 2));
        _offsets[++_count] = Child.Length;
        Validity.AppendValid();
    }

    public override void AppendNull()
    {
        EndList();
        Validity.Truncate(Validity.Length - 1);
        Validity.AppendNull();
    }

    public override void Truncate(int length)
    {
        _count = length;
        Child.Truncate(_offsets[length]);
        Validity.Truncate(length);
    }

    public override void AppendRow(object? value)
    {
        if (value is null) { AppendNull(); return; }
        foreach (var e in (object?[])value) Child.AppendRow(e);
        EndList();
    }

    public override void AppendFrom(IArrowArray source, int i)
    {
        if (source.IsNull(i)) { AppendNull(); return; }
        var list = (ListArray)source;
        for (int k = list.ValueOffsets[i]; k < list.ValueOffsets[i + 1]; k++) Child.AppendFrom(list.Values, k);
        EndList();
    }

    public override IArrowArray Build()
    {
        var (nulls, nullCount) = Validity.Build();
        int n = _count;
        var offsets = new ArrowBuffer(MemoryMarshal.AsBytes(_offsets.AsSpan(0, n + 1)).ToArray());
        _offsets = new int[2];
        _count = 0;
        return new ListArray(Type.ToArrow(), n, offsets, Child.Build(), nulls, nullCount, 0);
    }
}

/// <summary>Structs: one child builder per field, all of the struct's length.</summary>
internal sealed class StructBuilder : ColumnBuilder
{
    public StructBuilder(DataType type, int capacity) : base(type)
    {
        Children = type.Fields.Select(f => Create(f.Type, capacity)).ToArray();
    }

    public ColumnBuilder[] Children { get; }

    /// <summary>Marks a struct row valid after each child got its value.</summary>
    public void EndStruct() => Validity.AppendValid();

    public override void AppendNull()
    {
        foreach (var c in Children) c.AppendNull();
        Validity.AppendNull();
    }

    public override void Truncate(int length)
    {
        foreach (var c in Children) c.Truncate(length);
        Validity.Truncate(length);
    }

    public override void AppendRow(object? value)
    {
        if (value is null) { AppendNull(); return; }
        var fields = (object?[])value;
        for (int i = 0; i < Children.Length; i++) Children[i].AppendRow(fields[i]);
        EndStruct();
    }

    public override void AppendFrom(IArrowArray source, int i)
    {
        if (source.IsNull(i)) { AppendNull(); return; }
        var s = (StructArray)source;
        for (int f = 0; f < Children.Length; f++) Children[f].AppendFrom(s.Fields[f], i);
        EndStruct();
    }

    public override IArrowArray Build()
    {
        var n = Length;
        var (nulls, nullCount) = Validity.Build();
        var children = Children.Select(c => c.Build()).ToList();
        return new StructArray(Type.ToArrow(), n, children, nulls, nullCount, 0);
    }
}
