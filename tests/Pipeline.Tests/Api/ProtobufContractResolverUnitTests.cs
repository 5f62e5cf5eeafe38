using FluentAssertions;
using ProtoBuf;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Api;

public enum SeedUserType { Unspecified = 0, Guest = 1, Member = 2 }

[ProtoContract]
public sealed class SeedContact
{
    [ProtoMember(1)] public string? PhoneNumber { get; set; }
    [ProtoMember(2)] public string? EmailAddress { get; set; }
}

[ProtoContract]
public sealed class SeedUser
{
    [ProtoMember(1)] public uint Id { get; set; }
    [ProtoMember(2)] public string Name { get; set; } = "";
    [ProtoMember(3)] public SeedUserType UserType { get; set; }
    [ProtoMember(4)] public SeedContact? ContactInfo { get; set; }
    [ProtoMember(5)] public ulong UpdatedAt { get; set; }
}

/// <summary>The seed's prefixed-protobuf parse example in C#, with a protobuf-net contract type as the message type.</summary>
public class ProtobufContractResolverUnitTests
{
    private static byte[] Prefixed(SeedUser u)
    {
        using var ms = new MemoryStream();
        ms.Write([0, 0, 0, 0, 1, 42]);
        Serializer.Serialize(ms, u);
        return ms.ToArray();
    }

    [Fact]
    public async Task A_contract_message_parses_from_protobuf_strips_the_prefix_and_skips_guests()
    {
        var users = StreamResolver.For<SeedUser>("get_users_stream", Kafka.Topic("users", "localhost:9092"))
            .Output(m => new User
            {
                UserId = m.Id,
                FullName = m.Name,
                EmailAddress = m.ContactInfo!.EmailAddress,
                UpdatedAt = F.FromUnixSeconds(m.UpdatedAt / 1_000_000.0),
            })
            .Parse(b => F.IfThenElse(F.ProtoDeserialize<SeedUser>(F.Substr(b, 6, null))!.UserType == SeedUserType.Guest,
                null, F.ProtoDeserialize<SeedUser>(F.Substr(b, 6, null))));
        var plan = StreamResolver.Compile(TestDefinitions.Connectors, users).Resolvers.Single();
        plan.Protobuf!.FullName.Should().EndWith("SeedUser");

        var member = Prefixed(new SeedUser { Id = 123, Name = "John Smith", UserType = SeedUserType.Member, ContactInfo = new SeedContact { EmailAddress = "j@x.org" }, UpdatedAt = 1_700_000_000_000_000 });
        var guest = Prefixed(new SeedUser { Id = 124, Name = "Guest", UserType = SeedUserType.Guest });
        var result = await ResolverTest.RunAsync(plan, [new TestMessage(member), new TestMessage(guest), new TestMessage(member[..^3])]);
        result.Messages.Select(m => m.Outcome).Should().Equal("written", "skipped", "parse_failed");
        result.Messages[0].Features.Should().BeEquivalentTo(new Dictionary<string, object?>
        {
            ["user.user_id"] = 123L, ["user.full_name"] = "John Smith", ["user.email_address"] = "j@x.org",
            ["user.updated_at"] = new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc),
        });
    }

    [Fact]
    public async Task Without_a_parse_expression_a_contract_message_type_is_read_as_protobuf()
    {
        var users = StreamResolver.For<SeedUser>("plain", Kafka.Topic("users", "localhost:9092"))
            .Output(m => new User { UserId = m.Id, FullName = m.Name.ToUpper(), EmailAddress = m.ContactInfo!.PhoneNumber });
        using var ms = new MemoryStream();
        Serializer.Serialize(ms, new SeedUser { Id = 5, Name = "ada", ContactInfo = new SeedContact { PhoneNumber = "555" } });
        var result = await ResolverTest.RunAsync(users, [new TestMessage(ms.ToArray())]);
        result.Messages.Single().Features.Should().Contain("user.full_name", "ADA").And.Contain("user.email_address", "555");
    }
}
