using Sluice.Kernels.Types;

namespace Sluice.Kernels.Parsing;

/// <summary>The scalar kinds of the protobuf wire format, plus enum and message.</summary>
internal enum ProtoKind
{
    /// <summary>64-bit float (wire type 1).</summary>
    Double,
    /// <summary>32-bit float (wire type 5), widened to float64.</summary>
    Float,
    /// <summary>varint, two's complement.</summary>
    Int32,
    /// <summary>varint, two's complement.</summary>
    Int64,
    /// <summary>varint.</summary>
    UInt32,
    /// <summary>varint; a value above int64's range is a per-message error.</summary>
    UInt64,
    /// <summary>zigzag varint.</summary>
    SInt32,
    /// <summary>zigzag varint.</summary>
    SInt64,
    /// <summary>4 bytes, unsigned.</summary>
    Fixed32,
    /// <summary>8 bytes, unsigned; a value above int64's range is a per-message error.</summary>
    Fixed64,
    /// <summary>4 bytes, signed.</summary>
    SFixed32,
    /// <summary>8 bytes, signed.</summary>
    SFixed64,
    /// <summary>varint 0 or 1.</summary>
    Bool,
    /// <summary>length-delimited UTF-8 (invalid UTF-8 is a per-message error).</summary>
    String,
    /// <summary>length-delimited bytes.</summary>
    Bytes,
    /// <summary>varint holding the enum's number (open enums: unknown numbers are kept).</summary>
    Enum,
    /// <summary>length-delimited nested message.</summary>
    Message,
}

/// <summary>Messages the parse kernel maps to a Sluice type of their own rather than a struct.</summary>
internal enum ProtoWellKnown
{
    /// <summary>An ordinary message: a struct.</summary>
    None,
    /// <summary><c>google.protobuf.Timestamp</c>: a <c>timestamp</c> (microseconds; nanoseconds below a microsecond are dropped).</summary>
    Timestamp,
    /// <summary><c>google.protobuf.*Value</c> wrappers: their <c>value</c> field, null when the wrapper is absent.</summary>
    Wrapper,
}

/// <summary>One field of a protobuf message as the parse kernel reads it.</summary>
/// <param name="Name">The field name, used as the struct field name (<c>contact_info</c>).</param>
/// <param name="Number">The field number on the wire.</param>
/// <param name="Kind">The wire kind.</param>
/// <param name="Repeated">A repeated field (packed or not; a list, empty when absent). Maps are repeated entry messages.</param>
/// <param name="HasPresence">Absent means null (proto3 <c>optional</c>, oneof members, proto2 optional); otherwise the default.</param>
/// <param name="Message">The nested message of a <see cref="ProtoKind.Message"/> field.</param>
/// <param name="Enum">The enum type of a <see cref="ProtoKind.Enum"/> field.</param>
internal sealed record ProtoField(string Name, int Number, ProtoKind Kind, bool Repeated, bool HasPresence,
    ProtoMessage? Message = null, DataType? Enum = null)
{
    /// <summary>The Sluice type of this field's column.</summary>
    public DataType Type
    {
        get
        {
            var element = Kind switch
            {
                ProtoKind.Double or ProtoKind.Float => DataType.Float64,
                ProtoKind.Bool => DataType.Bool,
                ProtoKind.String => DataType.String,
                ProtoKind.Bytes => DataType.Bytes,
                ProtoKind.Enum => Enum!.WithNullable(false),
                ProtoKind.Message => Message!.Type.WithNullable(false),
                _ => DataType.Int64,
            };
            if (Repeated) return DataType.ListOf(element);
            // A singular message is always nullable: absent is distinguishable on the wire.
            return element.WithNullable(HasPresence || Kind == ProtoKind.Message);
        }
    }
}

/// <summary>
/// A protobuf message schema (from a <c>.proto</c> file or a protobuf-net contract type). Immutable; it cannot
/// contain itself (recursive messages are rejected before one is built).
/// </summary>
public sealed class ProtoMessage
{
    /// <summary>Creates a schema; field names and numbers must be unique.</summary>
    internal ProtoMessage(string fullName, IReadOnlyList<ProtoField> fields, ProtoWellKnown wellKnown = ProtoWellKnown.None)
    {
        FullName = fullName;
        Fields = fields;
        WellKnown = wellKnown;
        if (fields.GroupBy(f => f.Number).FirstOrDefault(g => g.Count() > 1) is { } dup)
            throw new ArgumentException($"message {fullName} numbers two fields {dup.Key}: {string.Join(" and ", dup.Select(f => f.Name))}");
        if (wellKnown == ProtoWellKnown.Wrapper && (fields.Count != 1 || fields[0].Number != 1 || fields[0].Repeated || fields[0].Kind == ProtoKind.Message))
            throw new ArgumentException($"wrapper message {fullName} must have exactly one scalar field numbered 1");
        Type = wellKnown switch
        {
            ProtoWellKnown.Timestamp => DataType.Timestamp,
            ProtoWellKnown.Wrapper => fields[0].Type.WithNullable(false),
            _ => DataType.StructOf(fullName, fields.Select(f => new StructField(f.Name, f.Type))),
        };
    }

    /// <summary>The message's full name without a leading dot (<c>acme.User</c>); also the struct type's name.</summary>
    public string FullName { get; }
    /// <summary>Fields in declaration order: the struct's field order.</summary>
    internal IReadOnlyList<ProtoField> Fields { get; }
    /// <summary>Whether this is a well-known type with a type of its own.</summary>
    internal ProtoWellKnown WellKnown { get; }
    /// <summary>The Sluice type of a present value of this message (not nullable).</summary>
    public DataType Type { get; }

    /// <summary>The well-known types of <c>google/protobuf/timestamp.proto</c> and <c>wrappers.proto</c>, by full name.</summary>
    internal static ProtoWellKnown WellKnownOf(string fullName) => fullName switch
    {
        "google.protobuf.Timestamp" => ProtoWellKnown.Timestamp,
        "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" or "google.protobuf.Int64Value" or "google.protobuf.UInt64Value"
            or "google.protobuf.Int32Value" or "google.protobuf.UInt32Value" or "google.protobuf.BoolValue"
            or "google.protobuf.StringValue" or "google.protobuf.BytesValue" => ProtoWellKnown.Wrapper,
        _ => ProtoWellKnown.None,
    };

    /// <inheritdoc/>
    public override string ToString() => FullName;
}
