using CsCheck;
using FluentAssertions;
using ProtoBuf;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Parsing;
using Sluice.Pipeline.Definitions;

namespace Sluice.Pipeline.Tests.Protobuf;

/// <summary>
/// Differential tests with protobuf-net as the oracle: random messages are serialized by protobuf-net, parsed by the
/// kernel (schema taken from the contract type) and by protobuf-net, and compared field by field, nulls and defaults included.
/// </summary>
public class ProtobufDifferentialUnitTests
{
    public enum PbUserType { Unspecified = 0, Guest = 1, Member = 2 }

    [ProtoContract]
    public sealed class PbContact
    {
        [ProtoMember(1)] public string? Phone { get; set; }
        [ProtoMember(2)] public string? Email { get; set; }
    }

    [ProtoContract, CompatibilityLevel(CompatibilityLevel.Level300)]
    public sealed class PbUser
    {
        [ProtoMember(1)] public uint Id { get; set; }
        [ProtoMember(2)] public string Name { get; set; } = "";
        [ProtoMember(3)] public PbUserType UserType { get; set; }
        [ProtoMember(4)] public PbContact? ContactInfo { get; set; }
        [ProtoMember(5)] public ulong UpdatedAt { get; set; }
        [ProtoMember(6)] public long? Maybe { get; set; }
        [ProtoMember(7, DataFormat = DataFormat.ZigZag)] public int Zig { get; set; }
        [ProtoMember(8, DataFormat = DataFormat.FixedSize)] public long Fixed { get; set; }
        [ProtoMember(9)] public double Score { get; set; }
        [ProtoMember(10)] public float Ratio { get; set; }
        [ProtoMember(11)] public bool Active { get; set; }
        [ProtoMember(12)] public byte[]? Raw { get; set; }
        [ProtoMember(13)] public List<int> Nums { get; set; } = [];
        [ProtoMember(14, IsPacked = true)] public List<long> Packed { get; set; } = [];
        [ProtoMember(15)] public List<string> Tags { get; set; } = [];
        [ProtoMember(16)] public List<PbContact> Contacts { get; set; } = [];
        [ProtoMember(17)] public Dictionary<string, long> Attrs { get; set; } = [];
        [ProtoMember(18)] public DateTime? When { get; set; }
        [ProtoMember(19)] public string? Nick { get; set; }
        [ProtoMember(20, DataFormat = DataFormat.ZigZag)] public long ZigLong { get; set; }
        [ProtoMember(21)] public int Plain32 { get; set; }
    }

    private static readonly ProtoMessage Schema = ProtoCatalog.FromContract(typeof(PbUser));

    private static Gen<T?> Maybe<T>(Gen<T> g) where T : struct => Gen.Bool.SelectMany(b => b ? g.Select(x => (T?)x) : Gen.Const((T?)null));
    private static Gen<T?> MaybeRef<T>(Gen<T> g) where T : class => Gen.Bool.SelectMany(b => b ? g.Select(x => (T?)x) : Gen.Const((T?)null));

    private static readonly Gen<string?> Text = Gen.Int[0, 3].SelectMany(k => k switch
    {
        0 => Gen.Const((string?)null),
        1 => Gen.Const((string?)""),
        2 => Gen.String.AlphaNumeric.Select(x => (string?)x),
        _ => Gen.String.Select(x => (string?)x),
    });

    private static readonly Gen<PbContact> Contact = Gen.Select(Text, Text, (p, e) => new PbContact { Phone = p, Email = e });

    private static readonly Gen<PbUser> Users =
        Gen.Select(
            Gen.Select(Gen.UInt, Gen.String.AlphaNumeric, Gen.Int[-1, 7], MaybeRef(Contact), Gen.Long[0, long.MaxValue], Maybe(Gen.Long), Gen.Int, Gen.Long,
                (id, name, type, contact, updated, maybe, zig, fix) => new PbUser
                {
                    Id = id, Name = name, UserType = (PbUserType)type, ContactInfo = contact, UpdatedAt = (ulong)updated, Maybe = maybe, Zig = zig, Fixed = fix,
                }),
            Gen.Double, Gen.Float, Gen.Bool, MaybeRef(Gen.Byte.Array[0, 8]), Gen.Int.List[0, 5], Gen.Long.List[0, 5], Gen.String.AlphaNumeric.List[0, 3],
            (u, score, ratio, active, raw, nums, packed, tags) =>
            {
                (u.Score, u.Ratio, u.Active, u.Raw, u.Nums, u.Packed, u.Tags) = (score, ratio, active, raw, nums, packed, tags);
                return u;
            })
        .SelectMany(u => Gen.Select(Contact.List[0, 3], Gen.Dictionary(Gen.String.AlphaNumeric, Gen.Long)[0, 3],
            Maybe(Gen.Long[-62_135_596_800_000_000L, 253_402_300_799_000_000L].Select(us => DateTime.UnixEpoch.AddTicks(us * 10))), Text, Gen.Long, Gen.Int,
            (contacts, attrs, when, nick, zigLong, plain) =>
            {
                (u.Contacts, u.Attrs, u.When, u.Nick, u.ZigLong, u.Plain32) = (contacts, attrs, when, nick, zigLong, plain);
                return u;
            }));

    private static object? ContactRow(PbContact? c) => c is null ? null : new object?[] { c.Phone, c.Email };

    /// <summary>What protobuf-net read, in the kernel's row form (field order = field numbers).</summary>
    private static object?[] Expected(PbUser u) =>
    [
        (long)u.Id, u.Name, (long)u.UserType, ContactRow(u.ContactInfo), (long)u.UpdatedAt, u.Maybe, (long)u.Zig, u.Fixed, u.Score, (double)u.Ratio,
        u.Active, u.Raw, u.Nums.Select(x => (object?)(long)x).ToArray(), u.Packed.Select(x => (object?)x).ToArray(), u.Tags.Select(x => (object?)x).ToArray(),
        u.Contacts.Select(ContactRow).ToArray(), u.Attrs.Select(kv => (object?)new object?[] { kv.Key, kv.Value }).ToArray(),
        u.When is { } w ? (w.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks) / 10 : null, u.Nick, u.ZigLong, (long)u.Plain32,
    ];

    [Fact]
    public void The_contract_schema_has_the_contract_fields_presence_and_well_known_types()
    {
        Schema.FullName.Should().Be("Sluice.Pipeline.Tests.Protobuf.PbUser", "protobuf-net names the package after the namespace");
        string.Join(", ", Schema.Type.Fields.Select(f => $"{f.Name}: {f.Type}")).Replace("Sluice.Pipeline.Tests.Protobuf.", "", StringComparison.Ordinal).Should().Be(
            "Id: int64, Name: string, UserType: PbUserType, ContactInfo: PbContact?, UpdatedAt: int64, Maybe: int64?, Zig: int64, Fixed: int64, " +
            "Score: float64, Ratio: float64, Active: bool, Raw: bytes?, Nums: list<int64>, Packed: list<int64>, Tags: list<string>, " +
            "Contacts: list<PbContact>, Attrs: list<PbUser.AttrsEntry>, When: timestamp?, Nick: string?, ZigLong: int64, Plain32: int64");
    }

    [Fact]
    public void Random_messages_parse_exactly_as_protobuf_net_reads_them()
    {
        var kernel = new ProtobufParseKernel(Schema);
        Users.Array[1, 12].Sample(users =>
        {
            var wire = users.Select(u =>
            {
                using var ms = new MemoryStream();
                Serializer.Serialize(ms, u);
                return ms.ToArray();
            }).ToArray();
            // As serialized (fields in number order: the kernel's one-pass path) and with the fields in descending
            // number order (a valid encoding of the same message: the two-phase path).
            var reordered = wire.Select(Reorder).ToArray();
            var result = kernel.Parse(ParseKernel.Messages(wire.Concat(reordered)));
            result.Errors.Should().BeEmpty();
            for (int i = 0; i < wire.Length; i++)
            {
                var oracle = Serializer.Deserialize<PbUser>(wire[i].AsSpan());
                var expected = ValueText.Format(Expected(oracle), Schema.Type);
                ValueText.Format(ArrowValues.GetRow(result.Column, i, Schema.Type), Schema.Type).Should().Be(expected, $"message {i} ({Convert.ToHexString(wire[i])})");
                ValueText.Format(ArrowValues.GetRow(result.Column, wire.Length + i, Schema.Type), Schema.Type).Should().Be(expected, $"reordered message {i}");
                ValueText.Format(Expected(Serializer.Deserialize<PbUser>(reordered[i].AsSpan())), Schema.Type).Should().Be(expected, "protobuf-net reads the reordered bytes alike");
            }
        }, iter: 300);
    }

    /// <summary>The top-level fields stably sorted by descending field number (repeated elements keep their order).</summary>
    private static byte[] Reorder(byte[] message)
    {
        var fields = new List<(ulong Number, byte[] Bytes)>();
        int pos = 0;
        while (pos < message.Length)
        {
            int start = pos;
            ulong tag = Varint(message, ref pos);
            switch (tag & 7)
            {
                case 0: Varint(message, ref pos); break;
                case 1: pos += 8; break;
                case 5: pos += 4; break;
                case 2: int len = (int)Varint(message, ref pos); pos += len; break;
                default: throw new InvalidOperationException($"wire type {tag & 7} at {start} in {Convert.ToHexString(message)}");
            }
            fields.Add((tag >> 3, message[start..pos]));
        }
        return fields.OrderByDescending(f => f.Number).SelectMany(f => f.Bytes).ToArray();
    }

    private static ulong Varint(byte[] data, ref int pos)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
    }
}
