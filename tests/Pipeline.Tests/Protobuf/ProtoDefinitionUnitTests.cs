using System.Text;
using FluentAssertions;
using ProtoBuf;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Protobuf;

/// <summary><c>protos:</c> in definition files: loading, name resolution, compile errors, and resolvers over protobuf messages.</summary>
public sealed class ProtoDefinitionUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-proto-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private const string SeedProto = """
        message User {
        enum UserType {
        USER_TYPE_UNSPECIFIED = 0;
        USER_TYPE_GUEST = 1;
        USER_TYPE_MEMBER = 2;
        }
        message ContactInfo {
        optional string phone_number = 1;
        optional string email_address = 1;
        }
        uint32 id = 1;
        string name = 2;
        UserType user_type = 3;
        optional ContactInfo contact_info = 4;
        uint64 updated_at = 5;
        }
        """;

    private const string Features = """
        features:
          User:
            user_id: {type: int64, primary: true}
            full_name: string
            email_address: string?
            kind: int64
        sources:
          users: {kind: recording, path: users.jsonl}

        """;

    private string Write(string relative, string text)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private CompiledDefinitions? Compile(string yaml, out IReadOnlyList<DefinitionDiagnostic> errors) =>
        DefinitionCompiler.CompileFile(Write("sluice.yaml", yaml), TestDefinitions.Connectors, out errors);

    private string ValidProto() => Write("protos/user.proto", "syntax = \"proto3\";\npackage acme;\nimport \"contact.proto\";\n" +
        SeedProto.Replace("message ContactInfo {\noptional string phone_number = 1;\noptional string email_address = 1;\n}\n", "", StringComparison.Ordinal)
                 .Replace("optional ContactInfo contact_info", "optional acme.ContactInfo contact_info", StringComparison.Ordinal));

    private void ContactProto() => Write("protos/contact.proto", "syntax = \"proto3\";\npackage acme;\nmessage ContactInfo {\n  optional string phone_number = 1;\n  optional string email_address = 2;\n}\n");

    private const string Resolver = """
        resolvers:
          users:
            source: users
            message_type: User
            output_features:
              User.user_id: _.id
              User.full_name: _.name
              User.email_address: _.contact_info.email_address
              User.kind: _.user_type

        """;

    [Fact]
    public void The_seeds_own_proto_is_reported_at_the_duplicate_field_number()
    {
        Write("protos/user.proto", "syntax = \"proto3\";\n" + SeedProto);
        Compile(Features + "protos: [protos/user.proto]\n" + Resolver, out var errors).Should().BeNull();
        var e = errors.Should().ContainSingle(x => x.Code == DefinitionErrorCodes.ProtoFile).Subject;
        e.Location.File.Should().EndWith(Path.Combine("protos", "user.proto"));
        e.Location.Line.Should().Be(10, "line 10 declares email_address = 1 after phone_number = 1");
        e.Message.Should().Contain("field 1 is already in use by 'phone_number'");
        e.ToString().Should().StartWith("SLU223");
    }

    [Fact]
    public void A_missing_proto_file_is_reported_where_protos_names_it()
    {
        Compile(Features + "protos: [protos/nope.proto]\n", out var errors).Should().BeNull();
        var e = errors.Should().ContainSingle().Subject;
        e.Code.Should().Be(DefinitionErrorCodes.ProtoFile);
        e.Location.File.Should().EndWith("sluice.yaml");
        e.Message.Should().Contain("nope.proto");
    }

    [Fact]
    public void Imports_resolve_relative_to_the_importing_file_and_names_resolve_by_suffix()
    {
        ContactProto();
        ValidProto();
        var plan = Compile(Features + "protos: [protos/user.proto]\n" + Resolver, out var errors);
        errors.Should().BeEmpty();
        var r = plan!.Resolvers.Single();
        r.Protobuf!.FullName.Should().Be("acme.User");
        r.MessageType.ToString().Should().Be("acme.User");
        r.Outputs.Single(o => o.Feature.Name == "kind").Expression.Type.Should().Be(DataType.Int64, "an enum feeds an int64 feature as its number");
    }

    [Fact]
    public void Unknown_recursive_and_mismatched_protobuf_types_are_compile_errors_with_codes()
    {
        ContactProto();
        ValidProto();
        Write("protos/tree.proto", "syntax = \"proto3\";\npackage acme;\nmessage Node { int64 id = 1; Node parent = 2; }\n");
        var yaml = Features + "protos: [protos/user.proto, protos/tree.proto]\n" + """
            resolvers:
              unknown:
                source: users
                message_type: acme.Usr
                output_features: {User.user_id: _.id}
              recursive:
                source: users
                message_type: Node
                output_features: {User.user_id: _.id}
              bad_parse:
                source: users
                message_type: acme.User
                parse: F.proto_deserialize(_, acme.ContactInfo)
                output_features: {User.user_id: _.id}
              bad_function:
                source: users
                message_type: bytes
                output_features:
                  User.user_id: F.proto_deserialize(_, acme.Nope).id
              bad_enum:
                source: users
                message_type: acme.User
                parse: F.if_then_else(F.proto_deserialize(_, acme.User).user_type == User.UserType.VIP, None, F.proto_deserialize(_, acme.User))
                output_features: {User.user_id: _.id}
            """;
        Compile(yaml, out var errors).Should().BeNull();
        errors.Should().Contain(e => e.Resolver == "unknown" && e.Code == DefinitionErrorCodes.UnknownMessageType && e.Message.Contains("did you mean 'acme.User'"));
        errors.Should().Contain(e => e.Resolver == "recursive" && e.Code == DefinitionErrorCodes.RecursiveType && e.Message.Contains("acme.Node contains itself"));
        errors.Should().Contain(e => e.Resolver == "bad_parse" && e.Code == DefinitionErrorCodes.ParseTypeMismatch);
        errors.Should().Contain(e => e.Resolver == "bad_function" && e.Code == "SLU117");
        errors.Should().Contain(e => e.Resolver == "bad_enum" && e.Code == "SLU109" && e.Message.Contains("USER_TYPE_GUEST"));
    }

    [ProtoContract]
    public sealed class WireUser
    {
        [ProtoMember(1)] public uint Id { get; set; }
        [ProtoMember(2)] public string Name { get; set; } = "";
        [ProtoMember(3)] public int UserType { get; set; }
        [ProtoMember(4)] public WireContact? ContactInfo { get; set; }
    }

    [ProtoContract]
    public sealed class WireContact
    {
        [ProtoMember(2)] public string? Email { get; set; }
    }

    private static byte[] Serialize(WireUser u)
    {
        using var ms = new MemoryStream();
        Serializer.Serialize(ms, u);
        return ms.ToArray();
    }

    [Fact]
    public void A_protobuf_resolver_parses_writes_and_dead_letters_malformed_messages_with_their_position()
    {
        ContactProto();
        ValidProto();
        var plan = Compile(Features + "protos: [protos/user.proto]\n" + Resolver, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
        var b = new MessageBatch.Builder();
        var good = Serialize(new WireUser { Id = 7, Name = "Ada", UserType = 2, ContactInfo = new WireContact { Email = "ada@x" } });
        b.Append("users", 3, 10, 1, null, good, []);
        b.Append("users", 3, 11, 1, null, good[..^2], []);
        b.Append("users", 3, 12, 1, null, Serialize(new WireUser { Id = 8 }), []);
        var result = new ResolverStep(plan.Resolvers.Single()).Process(b.Build(), 1);
        result.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.ParseFailed, MessageOutcome.Written);
        result.Reasons[1].Should().Contain("users/3/11").And.Contain("truncated");
        result.Features.Length.Should().Be(2);
        string.Join("|", Enumerable.Range(0, 2).Select(i => $"{((Apache.Arrow.Int64Array)result.Features.Column("user.user_id")).GetValue(i)}," +
            $"{((Apache.Arrow.StringArray)result.Features.Column("user.full_name")).GetString(i)},{((Apache.Arrow.StringArray)result.Features.Column("user.email_address")).GetString(i) ?? "null"}," +
            $"{((Apache.Arrow.Int64Array)result.Features.Column("user.kind")).GetValue(i)}"))
            .Should().Be("7,Ada,ada@x,2|8,,null,0");
        Encoding.UTF8.GetString(good).Should().Contain("Ada");
    }
}
