using System.Text;
using Apache.Arrow;
using CsCheck;
using FluentAssertions;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Tests.Parsing;

/// <summary>Golden cases of the protobuf wire-format kernel: presence, defaults, packing, merging, well-known types, errors.</summary>
public class ProtobufParseKernelUnitTests
{
    private static readonly DataType UserType = DataType.EnumOf("acme.User.UserType",
        [new EnumMember("USER_TYPE_UNSPECIFIED", 0), new EnumMember("USER_TYPE_GUEST", 1), new EnumMember("USER_TYPE_MEMBER", 2)]);

    private static readonly ProtoMessage Contact = new("acme.User.ContactInfo",
    [
        new ProtoField("phone_number", 1, ProtoKind.String, false, true),
        new ProtoField("email_address", 2, ProtoKind.String, false, true),
    ]);

    private static readonly ProtoMessage Timestamp = new("google.protobuf.Timestamp",
        [new ProtoField("seconds", 1, ProtoKind.Int64, false, false), new ProtoField("nanos", 2, ProtoKind.Int32, false, false)],
        ProtoWellKnown.Timestamp);

    private static readonly ProtoMessage Int64Value = new("google.protobuf.Int64Value",
        [new ProtoField("value", 1, ProtoKind.Int64, false, false)], ProtoWellKnown.Wrapper);

    private static readonly ProtoMessage User = new("acme.User",
    [
        new ProtoField("id", 1, ProtoKind.UInt32, false, false),
        new ProtoField("name", 2, ProtoKind.String, false, false),
        new ProtoField("user_type", 3, ProtoKind.Enum, false, false, Enum: UserType),
        new ProtoField("contact_info", 4, ProtoKind.Message, false, true, Contact),
        new ProtoField("updated_at", 5, ProtoKind.UInt64, false, false),
    ]);

    private static readonly ProtoMessage Everything = new("test.Everything",
    [
        new ProtoField("d", 1, ProtoKind.Double, false, false),
        new ProtoField("f", 2, ProtoKind.Float, false, false),
        new ProtoField("i32", 3, ProtoKind.Int32, false, false),
        new ProtoField("s32", 4, ProtoKind.SInt32, false, false),
        new ProtoField("s64", 5, ProtoKind.SInt64, false, false),
        new ProtoField("fx32", 6, ProtoKind.Fixed32, false, false),
        new ProtoField("sfx32", 7, ProtoKind.SFixed32, false, false),
        new ProtoField("sfx64", 8, ProtoKind.SFixed64, false, false),
        new ProtoField("b", 9, ProtoKind.Bool, false, false),
        new ProtoField("raw", 10, ProtoKind.Bytes, false, false),
        new ProtoField("nums", 11, ProtoKind.Int64, true, false),
        new ProtoField("names", 12, ProtoKind.String, true, false),
        new ProtoField("contacts", 13, ProtoKind.Message, true, false, Contact),
        new ProtoField("at", 14, ProtoKind.Message, false, true, Timestamp),
        new ProtoField("maybe", 15, ProtoKind.Message, false, true, Int64Value),
        new ProtoField("opt", 16, ProtoKind.Int64, false, true),
        new ProtoField("far", 1000, ProtoKind.Int64, false, false),
    ]);

    private static ParseResult Parse(ProtoMessage m, params byte[][] messages) =>
        new ProtobufParseKernel(m).Parse(ParseKernel.Messages(messages.Select(x => (byte[]?)x)));

    private static string Row(ParseResult r, int row, DataType type) => ValueText.Format(ArrowValues.GetRow(r.Column, row, type), type);

    private static byte[] SeedUser(uint id = 123, string name = "John Smith", int type = 2, string? phone = "555-555-5555", string? email = "john.smith@gmail.com", ulong updated = 1700000000000000)
    {
        var w = new Wire().Varint(1, id).Text(2, name);
        if (type != 0) w.Varint(3, (ulong)type);
        if (phone is not null || email is not null)
        {
            var c = new Wire();
            if (phone is not null) c.Text(1, phone);
            if (email is not null) c.Text(2, email);
            w.Bytes(4, c.ToArray());
        }
        return w.Varint(5, updated).ToArray();
    }

    [Fact]
    public void Parses_the_seed_user_into_typed_nested_columns()
    {
        var r = Parse(User, SeedUser());
        r.Errors.Should().BeEmpty();
        Row(r, 0, User.Type).Should().Be("""{id: 123, name: "John Smith", user_type: 2, contact_info: {phone_number: "555-555-5555", email_address: "john.smith@gmail.com"}, updated_at: 1700000000000000}""");
        var s = (StructArray)r.Column;
        s.Fields[0].Should().BeOfType<Int64Array>();
        ((StructArray)s.Fields[3]).Fields[1].Should().BeOfType<StringArray>();
        User.Type.Fields[2].Type.Should().Be(UserType);
        User.Type.Fields[3].Type.IsNullable.Should().BeTrue("a singular message has presence");
        User.Type.Fields[1].Type.IsNullable.Should().BeFalse("a proto3 string without optional takes its default");
    }

    [Fact]
    public void Absent_fields_take_proto3_defaults_or_null_by_presence()
    {
        var r = Parse(User, [], new Wire().Bytes(4, new Wire().Text(2, "").ToArray()).ToArray());
        r.Errors.Should().BeEmpty();
        Row(r, 0, User.Type).Should().Be("""{id: 0, name: "", user_type: 0, contact_info: null, updated_at: 0}""");
        Row(r, 1, User.Type).Should().Be("""{id: 0, name: "", user_type: 0, contact_info: {phone_number: null, email_address: ""}, updated_at: 0}""",
            "an optional field present with its default value is not null");
        var e = Parse(Everything, System.Array.Empty<byte>());
        Row(e, 0, Everything.Type).Should().Be("""{d: 0.0, f: 0.0, i32: 0, s32: 0, s64: 0, fx32: 0, sfx32: 0, sfx64: 0, b: false, raw: b"", nums: [], names: [], contacts: [], at: null, maybe: null, opt: null, far: 0}""");
    }

    [Fact]
    public void Decodes_every_scalar_encoding()
    {
        var m = new Wire()
            .Fixed64(1, BitConverter.DoubleToUInt64Bits(-2.5)).Fixed32(2, BitConverter.SingleToUInt32Bits(1.5f))
            .Varint(3, unchecked((ulong)-7L)) // int32 negatives are ten-byte varints
            .Varint(4, 13) // zigzag -7
            .Varint(5, 1) // zigzag -1
            .Fixed32(6, 4_000_000_000).Fixed32(7, unchecked((uint)-9)).Fixed64(8, unchecked((ulong)-10L))
            .Varint(9, 1).Bytes(10, [0, 255])
            .Varint(16, 0).Varint(1000, 42)
            .ToArray();
        var r = Parse(Everything, m);
        r.Errors.Should().BeEmpty();
        Row(r, 0, Everything.Type).Should().Be("""{d: -2.5, f: 1.5, i32: -7, s32: -7, s64: -1, fx32: 4000000000, sfx32: -9, sfx64: -10, b: true, raw: b"\x00\xff", nums: [], names: [], contacts: [], at: null, maybe: null, opt: 0, far: 42}""");
    }

    [Fact]
    public void Repeated_fields_accept_packed_and_unpacked_encodings_and_keep_order()
    {
        var packed = new Wire().Varint(1, 1).Varint(1, 300).Varint(1, unchecked((ulong)-5L));
        var m = new Wire()
            .Varint(11, 7) // unpacked
            .Bytes(11, packed.Payload()) // packed, after it
            .Text(12, "a").Text(12, "b")
            .Bytes(13, new Wire().Text(1, "p1").ToArray()).Bytes(13, []).ToArray();
        var r = Parse(Everything, m);
        r.Errors.Should().BeEmpty();
        Row(r, 0, Everything.Type).Should().Contain("""nums: [7, 1, 300, -5], names: ["a", "b"], contacts: [{phone_number: "p1", email_address: null}, {phone_number: null, email_address: null}]""");
    }

    [Fact]
    public void The_last_singular_value_wins_and_a_repeated_singular_message_is_merged()
    {
        var m = new Wire().Varint(1, 1).Text(2, "first")
            .Bytes(4, new Wire().Text(1, "phone").ToArray())
            .Varint(1, 2).Text(2, "second")
            .Bytes(4, new Wire().Text(2, "mail").ToArray()).ToArray();
        var r = Parse(User, m);
        Row(r, 0, User.Type).Should().Be("""{id: 2, name: "second", user_type: 0, contact_info: {phone_number: "phone", email_address: "mail"}, updated_at: 0}""");
    }

    [Fact]
    public void Unknown_fields_of_every_wire_type_are_skipped_including_groups()
    {
        var group = new Wire().Tag(20, 3).Varint(1, 5).Tag(21, 3).Text(2, "inner").Tag(21, 4).Tag(20, 4);
        var m = new Wire().Varint(99, 1).Fixed64(98, 1).Fixed32(97, 1).Text(96, "x").Concat(group).Varint(1, 7).Varint(100_000, 3).ToArray();
        var r = Parse(User, m);
        r.Errors.Should().BeEmpty();
        Row(r, 0, User.Type).Should().StartWith("{id: 7,");
    }

    [Fact]
    public void Timestamps_and_wrappers_become_their_own_types()
    {
        Everything.Type.Fields[13].Type.Should().Be(DataType.Timestamp.WithNullable(true));
        Everything.Type.Fields[14].Type.Should().Be(DataType.Int64.WithNullable(true));
        var m = new Wire().Bytes(14, new Wire().Varint(1, 1_700_000_000).Varint(2, 123_456_789).ToArray())
            .Bytes(15, []).ToArray();
        var r = Parse(Everything, m);
        r.Errors.Should().BeEmpty();
        var s = (StructArray)r.Column;
        ((TimestampArray)s.Fields[13]).Values[0].Should().Be(1_700_000_000_123_456);
        ((Int64Array)s.Fields[14]).GetValue(0).Should().Be(0, "a present wrapper without its value holds the default");
    }

    [Fact]
    public void Malformed_messages_are_per_message_errors_with_their_path_and_the_batch_goes_on()
    {
        var good = SeedUser();
        var truncated = good[..^3];
        var wrongWire = new Wire().Text(1, "not a number").ToArray();
        var badUtf8 = new Wire().Bytes(4, new Wire().Bytes(2, [0xC3, 0x28]).ToArray()).ToArray();
        var tooBig = new Wire().Varint(5, ulong.MaxValue).ToArray();
        var badLength = new Wire().Tag(2, 2).ToArray().Concat(new byte[] { 50, 1, 2 }).ToArray();
        var r = Parse(User, good, truncated, wrongWire, badUtf8, tooBig, badLength, good);
        r.RowCount.Should().Be(2);
        r.SourceIndex.Should().Equal(0, 6);
        r.Errors.Select(e => e.Index).Should().Equal(1, 2, 3, 4, 5);
        r.Errors[0].Reason.Should().Contain("truncated");
        r.Errors[1].Path.Should().Be("id");
        r.Errors[1].Reason.Should().Contain("wire type 2");
        r.Errors[2].Path.Should().Be("contact_info.email_address");
        r.Errors[2].Reason.Should().Contain("UTF-8");
        r.Errors[3].Path.Should().Be("updated_at");
        r.Errors[3].Reason.Should().Contain("does not fit int64");
        r.Errors[4].Reason.Should().Contain("declares 50 bytes");
        Row(r, 1, User.Type).Should().Be(Row(r, 0, User.Type), "the rolled-back rows left nothing behind");
    }

    [Fact]
    public void Random_and_truncated_bytes_never_throw_and_every_message_is_a_row_or_an_error()
    {
        var kernel = new ProtobufParseKernel(Everything);
        var valid = new Wire().Varint(3, 5).Bytes(13, new Wire().Text(1, "x").ToArray()).Bytes(11, new Wire().Varint(1, 3).Payload())
            .Bytes(14, new Wire().Varint(1, 10).ToArray()).Varint(16, 2).ToArray();
        Gen.OneOf(
                Gen.Byte.Array[0, 64],
                Gen.Int[0, valid.Length].Select(n => valid[..n]),
                Gen.Int[0, valid.Length - 1].SelectMany(i => Gen.Byte.Select(b => { var c = (byte[])valid.Clone(); c[i] = b; return c; })))
            .Array[1, 20]
            .Sample(batch =>
            {
                var r = kernel.Parse(ParseKernel.Messages(batch.Select(x => (byte[]?)x)));
                (r.RowCount + r.Errors.Count).Should().Be(batch.Length);
                r.Column.Length.Should().Be(r.RowCount);
                ((StructArray)r.Column).Fields.Should().OnlyContain(f => f.Length == r.RowCount);
            }, iter: 2000);
    }

    private sealed class Scope(ProtoMessage message) : ITypeScope
    {
        public DataType? ResolveType(string name) => name == "User.UserType" ? UserType : null;
        public ProtoMessage? ResolveProtoMessage(string name) => name is "acme.User" or "User" ? message : null;
    }

    [Fact]
    public void The_seed_parse_expression_strips_the_prefix_skips_guests_and_reports_malformed_bytes()
    {
        var e = Expression.Compile(
            "F.if_then_else(F.proto_deserialize(F.substr(_, 6, None), User).user_type == User.UserType.GUEST, None, F.proto_deserialize(F.substr(_, 6, None), User))",
            DataType.Bytes, new Scope(User));
        e.Type.Should().Be(User.Type.WithNullable(true));
        e.SharedCalls.Should().Be(1, "the message is parsed once per batch though the expression names it twice");
        byte[] prefix = [0, 0, 0, 0, 1, 42];
        var messages = ParseKernel.Messages([[.. prefix, .. SeedUser()], [.. prefix, .. SeedUser(id: 5, type: 1)], [.. prefix, .. SeedUser()[..^2]], null]);
        var result = e.Evaluate(messages, out var errors);
        ValueText.Format(ArrowValues.GetRow(result, 0, e.Type), e.Type).Should().StartWith("{id: 123, name: \"John Smith\"");
        result.IsNull(1).Should().BeTrue("a GUEST user is skipped");
        result.IsNull(2).Should().BeTrue();
        result.IsNull(3).Should().BeTrue();
        errors.Should().ContainSingle().Which.Index.Should().Be(2);
        e.EvaluateRow(prefix.Concat(SeedUser(id: 9)).ToArray()).Should().BeOfType<object?[]>().Which[0].Should().Be(9L);
        e.EvaluateRow(prefix.Concat(SeedUser(id: 9, type: 1)).ToArray()).Should().BeNull();
    }
}

/// <summary>A minimal protobuf wire writer for hand-made golden messages (independent of the kernel under test).</summary>
internal sealed class Wire
{
    private readonly List<byte> _bytes = [];

    public Wire Tag(int number, int wire) => Raw((ulong)number << 3 | (uint)wire);
    public Wire Varint(int number, ulong value) => Tag(number, 0).Raw(value);
    public Wire Fixed64(int number, ulong value) { Tag(number, 1); _bytes.AddRange(BitConverter.GetBytes(value)); return this; }
    public Wire Fixed32(int number, uint value) { Tag(number, 5); _bytes.AddRange(BitConverter.GetBytes(value)); return this; }
    public Wire Bytes(int number, byte[] value) { Tag(number, 2).Raw((ulong)value.Length); _bytes.AddRange(value); return this; }
    public Wire Text(int number, string value) => Bytes(number, Encoding.UTF8.GetBytes(value));
    public Wire Concat(Wire other) { _bytes.AddRange(other._bytes); return this; }

    /// <summary>The bytes without the tags of single-field varints, for packed encodings: every value written so far.</summary>
    public byte[] Payload()
    {
        var result = new List<byte>();
        int pos = 0;
        while (pos < _bytes.Count)
        {
            while (_bytes[pos++] >= 0x80) { } // tag
            do result.Add(_bytes[pos]); while (_bytes[pos++] >= 0x80);
        }
        return [.. result];
    }

    public byte[] ToArray() => [.. _bytes];

    private Wire Raw(ulong v)
    {
        while (v >= 0x80)
        {
            _bytes.Add((byte)(v | 0x80));
            v >>= 7;
        }
        _bytes.Add((byte)v);
        return this;
    }
}
