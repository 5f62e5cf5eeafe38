using System.Collections.Frozen;
using System.Collections.Immutable;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Sluice.Kernels.Types;

/// <summary>The kinds of value a Sluice expression or message field can hold.</summary>
public enum TypeKind
{
    /// <summary>The type of the literal <c>None</c> before it meets another type.</summary>
    Null,
    /// <summary>64-bit signed integer (Arrow int64).</summary>
    Int64,
    /// <summary>64-bit IEEE float (Arrow double).</summary>
    Float64,
    /// <summary>Boolean (Arrow bool).</summary>
    Bool,
    /// <summary>UTF-8 text (Arrow utf8).</summary>
    String,
    /// <summary>Raw bytes (Arrow binary).</summary>
    Bytes,
    /// <summary>Instant in UTC, microseconds since the Unix epoch (Arrow timestamp[us, UTC]).</summary>
    Timestamp,
    /// <summary>Calendar date, days since the Unix epoch (Arrow date32).</summary>
    Date,
    /// <summary>Ordered list of one element type (Arrow list).</summary>
    List,
    /// <summary>Named record of fields (Arrow struct).</summary>
    Struct,
    /// <summary>Named set of integer constants, stored as its numbers (Arrow int64).</summary>
    Enum,
}

/// <summary>
/// A Sluice type: a kind, nullability, and for lists/structs/enums their shape. Immutable; compare with
/// <see cref="Equals(DataType?)"/> (structural, names of structs and enums included).
/// </summary>
public sealed class DataType : IEquatable<DataType>
{
    private DataType(TypeKind kind, bool nullable, DataType? element = null, string? name = null,
        ImmutableArray<StructField> fields = default, ImmutableArray<EnumMember> members = default)
    {
        Kind = kind;
        IsNullable = nullable || kind == TypeKind.Null;
        Element = element;
        Name = name;
        Fields = fields.IsDefault ? ImmutableArray<StructField>.Empty : fields;
        Members = members.IsDefault ? ImmutableArray<EnumMember>.Empty : members;
    }

    /// <summary>The kind of this type.</summary>
    public TypeKind Kind { get; }
    /// <summary>Whether a value of this type may be null.</summary>
    public bool IsNullable { get; }
    /// <summary>The element type of a list; null otherwise.</summary>
    public DataType? Element { get; }
    /// <summary>The name of a struct or enum type; null otherwise.</summary>
    public string? Name { get; }
    /// <summary>The fields of a struct, in order.</summary>
    public ImmutableArray<StructField> Fields { get; }
    /// <summary>The members of an enum, in declaration order.</summary>
    public ImmutableArray<EnumMember> Members { get; }

    /// <summary>The type of <c>None</c>.</summary>
    public static DataType Null { get; } = new(TypeKind.Null, true);
    /// <summary>int64, not nullable.</summary>
    public static DataType Int64 { get; } = new(TypeKind.Int64, false);
    /// <summary>float64, not nullable.</summary>
    public static DataType Float64 { get; } = new(TypeKind.Float64, false);
    /// <summary>bool, not nullable.</summary>
    public static DataType Bool { get; } = new(TypeKind.Bool, false);
    /// <summary>string, not nullable.</summary>
    public static DataType String { get; } = new(TypeKind.String, false);
    /// <summary>bytes, not nullable.</summary>
    public static DataType Bytes { get; } = new(TypeKind.Bytes, false);
    /// <summary>timestamp (UTC, microseconds), not nullable.</summary>
    public static DataType Timestamp { get; } = new(TypeKind.Timestamp, false);
    /// <summary>date, not nullable.</summary>
    public static DataType Date { get; } = new(TypeKind.Date, false);

    /// <summary>A list of <paramref name="element"/>.</summary>
    public static DataType ListOf(DataType element, bool nullable = false) => new(TypeKind.List, nullable, element);

    /// <summary>A named struct with the given fields (names must be unique).</summary>
    public static DataType StructOf(string name, IEnumerable<StructField> fields, bool nullable = false)
    {
        var list = fields.ToImmutableArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in list)
            if (!seen.Add(f.Name)) throw new ArgumentException($"struct '{name}' declares field '{f.Name}' twice", nameof(fields));
        return new(TypeKind.Struct, nullable, name: name, fields: list);
    }

    /// <summary>A named enum with the given members.</summary>
    public static DataType EnumOf(string name, IEnumerable<EnumMember> members, bool nullable = false) =>
        new(TypeKind.Enum, nullable, name: name, members: members.ToImmutableArray());

    /// <summary>This type with the given nullability.</summary>
    public DataType WithNullable(bool nullable) =>
        nullable == IsNullable || Kind == TypeKind.Null ? this : new(Kind, nullable, Element, Name, Fields, Members);

    /// <summary>True for int64 and float64.</summary>
    public bool IsNumeric => Kind is TypeKind.Int64 or TypeKind.Float64;

    /// <summary>The index of the named field of a struct, or -1.</summary>
    public int FieldIndex(string name)
    {
        if (Fields.Length <= 16)
        {
            for (int i = 0; i < Fields.Length; i++) if (Fields[i].Name == name) return i;
            return -1;
        }
        // A wide struct (a message of thousands of fields) is looked up by name once per member access: index it once.
        var index = _fieldIndex ??= Fields.Select((f, i) => (f.Name, i)).DistinctBy(x => x.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        return index.GetValueOrDefault(name, -1);
    }

    private FrozenDictionary<string, int>? _fieldIndex;

    /// <summary>True when both have the same kind and shape, ignoring nullability at every level.</summary>
    public bool SameShape(DataType other)
    {
        if (Kind != other.Kind || Name != other.Name) return false;
        return Kind switch
        {
            TypeKind.List => Element!.SameShape(other.Element!),
            TypeKind.Struct => Fields.Length == other.Fields.Length &&
                               Fields.Zip(other.Fields).All(p => p.First.Name == p.Second.Name && p.First.Type.SameShape(p.Second.Type)),
            _ => true,
        };
    }

    /// <summary>The Arrow type that stores values of this type.</summary>
    public IArrowType ToArrow() => Kind switch
    {
        TypeKind.Null => NullType.Default,
        TypeKind.Int64 or TypeKind.Enum => Int64Type.Default,
        TypeKind.Float64 => DoubleType.Default,
        TypeKind.Bool => BooleanType.Default,
        TypeKind.String => StringType.Default,
        TypeKind.Bytes => BinaryType.Default,
        TypeKind.Timestamp => ArrowTimestamp,
        TypeKind.Date => Date32Type.Default,
        TypeKind.List => new Apache.Arrow.Types.ListType(new Field("item", Element!.ToArrow(), Element.IsNullable)),
        TypeKind.Struct => new StructType(Fields.Select(f => new Field(f.Name, f.Type.ToArrow(), f.Type.IsNullable)).ToList()),
        _ => throw new InvalidOperationException(Kind.ToString()),
    };

    /// <summary>The one Arrow timestamp type Sluice uses: microseconds, UTC.</summary>
    public static TimestampType ArrowTimestamp { get; } = new(TimeUnit.Microsecond, "UTC");

    /// <summary>An Arrow field named <paramref name="name"/> holding this type.</summary>
    public Field ToArrowField(string name) => new(name, ToArrow(), IsNullable);

    /// <summary>Short text form: <c>int64</c>, <c>string?</c>, <c>list&lt;int64&gt;</c>, a struct or enum by name.</summary>
    public override string ToString()
    {
        var core = Kind switch
        {
            TypeKind.Null => "None",
            TypeKind.List => $"list<{Element}>",
            TypeKind.Struct or TypeKind.Enum => Name!,
            _ => KindName(Kind),
        };
        return IsNullable && Kind != TypeKind.Null ? core + "?" : core;
    }

    internal static string KindName(TypeKind kind) => kind switch
    {
        TypeKind.Int64 => "int64", TypeKind.Float64 => "float64", TypeKind.Bool => "bool", TypeKind.String => "string",
        TypeKind.Bytes => "bytes", TypeKind.Timestamp => "timestamp", TypeKind.Date => "date", TypeKind.List => "list",
        TypeKind.Struct => "struct", TypeKind.Enum => "enum", _ => "None",
    };

    /// <inheritdoc/>
    public bool Equals(DataType? other) => other is not null && IsNullable == other.IsNullable && Kind == other.Kind &&
        Name == other.Name && Equals(Element, other.Element) &&
        Fields.SequenceEqual(other.Fields) && Members.SequenceEqual(other.Members);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DataType);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, IsNullable, Name, Element, Fields.Length);
}

/// <summary>One field of a struct type.</summary>
public sealed record StructField(string Name, DataType Type);

/// <summary>One named constant of an enum type.</summary>
public sealed record EnumMember(string Name, long Number);
