using System.Text;
using System.Text.Json.Serialization;
using FluentAssertions;
using Sluice.Kernels.Expressions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Api;

[FeatureClass(MaxStaleness = "30d")]
public sealed class User
{
    [PrimaryKey] public long UserId { get; init; }
    public string FullName { get; init; } = "";
    public string? EmailAddress { get; init; }
    public DateTime? UpdatedAt { get; init; }
}

public sealed record ContactInfo(string PhoneNumber, string? EmailAddress);

public sealed record UserMessage(long Id, string Name, long UpdatedAt, ContactInfo ContactInfo);

[FeatureClass(MaxStaleness = "30d")]
public sealed class Order
{
    [PrimaryKey] public string OrderId { get; init; } = "";
    public double Price { get; init; }
    public long? Qty { get; init; }
    [Derived("_.price * _.qty")] public double? Total { get; init; }
}

public sealed record OrderMessage([property: JsonPropertyName("ID")] string Id, double Price, long? Qty, List<string> Tags);

/// <summary>The C# front-end: resolvers described in C# compile to the same plans as their YAML twins.</summary>
public class CSharpFrontEndUnitTests
{
    private const string SeedYaml = """
        features:
          User:
            max_staleness: 30d
            user_id: {type: int64, primary: true}
            full_name: string
            email_address: string?
            updated_at: timestamp?
        messages:
          ContactInfo: {phone_number: string, email_address: string?}
          UserMessage: {id: int64, name: string, updated_at: int64, contact_info: ContactInfo}
        sources:
          users: {kind: kafka, bootstrap_servers: localhost:9092, topic: users}
          user_updates_out: {kind: kafka, bootstrap_servers: localhost:9092, topic: user_updates_out}
        resolvers:
          get_users_stream:
            source: users
            message_type: UserMessage
            output_features:
              User.user_id: _.id
              User.full_name: _.name
              User.email_address: _.contact_info.email_address
              User.updated_at: F.from_unix_seconds(_.updated_at / 1_000_000)
            message_header_filters: [[X-Chalk-MessageType, User]]
            deduplication: {on: _.id, within: 24h}
            sink: {send_to: user_updates_out, output_features: [User.user_id, User.updated_at], format: json}
        """;

    private static readonly StreamResolver<UserMessage, User> Users =
        StreamResolver.For<UserMessage>("get_users_stream", Kafka.Topic("users", "localhost:9092"))
            .Output(m => new User
            {
                UserId = m.Id,
                FullName = m.Name,
                EmailAddress = m.ContactInfo.EmailAddress,
                UpdatedAt = F.FromUnixSeconds(m.UpdatedAt / 1_000_000.0),
            })
            .HeaderFilter("X-Chalk-MessageType", "User"u8)
            .Deduplicate(m => m.Id, TimeSpan.FromHours(24))
            .Sink(Kafka.Topic("user_updates_out", "localhost:9092"), f => new { f.UserId, f.UpdatedAt }, SinkFormat.Json);

    /// <summary>Everything a plan says, with expressions as their IR (no source positions).</summary>
    internal static string PlanText(ResolverPlan p)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"resolver {p.Name} source {p.Source.Name} {p.Source.Kind.Value} {string.Join(",", p.Source.Options.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value.Value}"))}");
        sb.AppendLine($"message {p.MessageType} {string.Join(",", p.MessageType.Fields.Select(f => $"{f.Name}:{f.Type}"))} parse {Ir(p.Parse?.Ir)}");
        sb.AppendLine($"class {p.Class.Name} {p.Class.Namespace} {p.Class.MaxStaleness} {string.Join(",", p.Class.Features.Select(f => $"{f.Fqn}:{f.Type}:{f.Primary}:{f.FeatureTime}:{Ir(f.Derived?.Ir)}"))}");
        foreach (var o in p.Outputs) sb.AppendLine($"output {o.Feature.Fqn} = {Ir(o.Expression.Ir)} : {o.Expression.Type}");
        foreach (var h in p.HeaderFilters) sb.AppendLine($"header {h.Name} {string.Join("|", h.Values.Select(Convert.ToHexString))}");
        sb.AppendLine($"dedup {Ir(p.DeduplicationKey?.Ir)} {p.DeduplicationWindow}");
        sb.AppendLine($"sink {p.Sink?.Target} {string.Join(",", p.Sink?.Fqns ?? [])} {p.Sink?.Format}");
        sb.AppendLine($"flags {p.SkipOnline} {p.SkipOffline} {string.Join(",", p.Environments ?? [])} {p.IncludeMessageEnvelope}");
        return sb.ToString();
    }

    private static string Ir(BoundExpr? e) => e switch
    {
        null => "-",
        RootExpr => "_",
        FieldExpr f => $"{Ir(f.Target)}.{f.Name}",
        ListFieldExpr f => $"{Ir(f.Target)}[].{f.Name}:{f.Type}",
        LiteralExpr l => $"lit({l.Type}:{l.Value})",
        UnaryExpr u => $"{u.Op}({Ir(u.Operand)})",
        BinaryExpr b => $"{b.Op}({Ir(b.Left)},{Ir(b.Right)}):{b.Type}",
        CastExpr c => $"cast({Ir(c.Operand)}):{c.Type}",
        CallExpr c => $"{c.Function.Name}({string.Join(",", c.Arguments.Select(Ir))}):{c.Type}",
        _ => e.GetType().Name,
    };

    [Fact]
    public void The_seed_users_resolver_in_CSharp_compiles_to_the_plan_of_its_YAML_twin()
    {
        var fromYaml = DefinitionCompiler.CompileText(SeedYaml, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null);
        errors.Should().BeEmpty();
        var fromCSharp = StreamResolver.Compile(TestDefinitions.Connectors, Users);
        PlanText(fromCSharp.Resolvers.Single()).Should().Be(PlanText(fromYaml!.Resolvers.Single()));
        fromCSharp.Sources.Keys.Should().BeEquivalentTo(fromYaml.Sources.Keys);
    }

    [Fact]
    public void Names_nullability_lists_derived_features_and_string_methods_lower_as_written()
    {
        var orders = StreamResolver.For<OrderMessage>("orders", Recordings.File("orders.jsonl"))
            .Output(m => new Order { OrderId = m.Id.Trim().ToUpper(), Price = m.Price > 0 ? m.Price : 0.0, Qty = m.Qty ?? 1 });
        var plan = StreamResolver.Compile(TestDefinitions.Connectors, orders).Resolvers.Single();
        var text = PlanText(plan);
        text.Should().Contain("message OrderMessage ID:string,price:float64,qty:int64?,tags:list<string>");
        text.Should().Contain("order.total:float64?:False:False:Multiply(_.price,cast(_.qty):float64?)");
        text.Should().Contain("output order.order_id = upper(trim(_.ID):string):string");
        text.Should().Contain("output order.price = if_then_else(Greater(_.price,lit(float64:0)):bool,_.price,lit(float64:0)):float64");
        text.Should().Contain("output order.qty = coalesce(_.qty,lit(int64:1)):int64");
    }

    public sealed record Raw(long Id, string Name);

    [Fact]
    public void An_expression_with_no_Sluice_equivalent_is_an_error_naming_the_construct_and_the_call_site()
    {
        var bad = StreamResolver.For<Raw>("bad", Recordings.File("raw.jsonl"))
            .Output(m => new User { UserId = m.Id / 10, FullName = m.Name.GetHashCode().ToString() });
        var act = () => StreamResolver.Compile(TestDefinitions.Connectors, bad);
        var e = act.Should().Throw<DefinitionException>().Which;
        e.Errors.Should().Contain(x => x.Code == "SLU224" && x.Feature == "User.user_id" && x.Message.Contains("integer division"));
        e.Errors.Should().Contain(x => x.Code == "SLU224" && x.Feature == "User.full_name" && x.Message.Contains("GetHashCode"));
        e.Errors.Should().OnlyContain(x => x.Location.File.EndsWith("CSharpFrontEndUnitTests.cs", StringComparison.Ordinal) && x.Location.Line > 0);
    }

    [FeatureClass]
    public sealed class Cart
    {
        [PrimaryKey] public string CartId { get; init; } = "";
        public long? TotalQty { get; init; }
        public long? LargestQty { get; init; }
        public List<string> Skus { get; init; } = [];
        public bool HasGift { get; init; }
        public long Lines { get; init; }
    }

    public sealed record Dims(double Width);
    public sealed record Item(string Sku, long Qty, Dims Dims);
    public sealed record CartMessage(string Id, List<Item> Items);

    private const string CartYaml = """
        features:
          Cart:
            cart_id: {type: string, primary: true}
            total_qty: int64?
            largest_qty: int64?
            skus: list<string>
            has_gift: bool
            lines: int64
        messages:
          Dims: {width: float64}
          Item: {sku: string, qty: int64, dims: Dims}
          CartMessage: {id: string, items: list<Item>}
        sources:
          carts: {kind: recording, path: carts.jsonl}
        resolvers:
          carts:
            source: carts
            message_type: CartMessage
            output_features:
              Cart.cart_id: _.id
              Cart.total_qty: F.array_sum(_.items.qty)
              Cart.largest_qty: F.array_max(_.items.qty)
              Cart.skus: _.items.sku
              Cart.has_gift: F.contains(_.items.sku, "GIFT")
              Cart.lines: F.array_count(_.items)
        """;

    [Fact]
    public void LINQ_over_a_list_of_records_lowers_to_fields_through_the_list_as_its_YAML_twin()
    {
        var carts = StreamResolver.For<CartMessage>("carts", Recordings.File("carts.jsonl"))
            .Output(m => new Cart
            {
                CartId = m.Id,
                TotalQty = m.Items.Sum(i => i.Qty),
                LargestQty = m.Items.Select(i => i.Qty).Max(),
                Skus = m.Items.Select(i => i.Sku).ToList(),
                HasGift = m.Items.Select(i => i.Sku).Contains("GIFT"),
                Lines = m.Items.Count,
            });
        var fromYaml = DefinitionCompiler.CompileText(CartYaml, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null);
        errors.Should().BeEmpty();
        var plan = PlanText(StreamResolver.Compile(TestDefinitions.Connectors, carts).Resolvers.Single());
        plan.Should().Be(PlanText(fromYaml!.Resolvers.Single()));
        plan.Should().Contain("output cart.total_qty = array_sum(_.items[].qty:list<int64>):int64?");

        var widths = StreamResolver.For<CartMessage>("widths", Recordings.File("carts.jsonl"))
            .Output(m => new Cart { CartId = m.Id, Skus = m.Items.Select(i => i.Dims.Width.ToString()).ToList() });
        var e = ((Func<CompiledDefinitions>)(() => StreamResolver.Compile(TestDefinitions.Connectors, widths))).Should().Throw<DefinitionException>().Which;
        e.Errors.Should().Contain(x => x.Code == "SLU224" && x.Feature == "Cart.skus" && x.Message.Contains("a selector reads a field of the item"));
    }

    public sealed record Loose(long Id, string Name, object Payload);

    [Fact]
    public void Type_errors_are_the_compilers_own_with_the_CSharp_call_site()
    {
        var mismatch = StreamResolver.For<Raw>("typed", Recordings.File("raw.jsonl"))
            .Output(m => new User { UserId = m.Id, FullName = F.Cast<string>(m.Id)!, UpdatedAt = F.FromUnixSeconds(m.Name.Length) });
        StreamResolver.Compile(TestDefinitions.Connectors, mismatch).Resolvers.Single().Outputs.Select(o => o.Feature.Fqn).Should().Equal("user.user_id", "user.full_name", "user.updated_at");

        var wrong = StreamResolver.For<Raw>("wrong", Recordings.File("raw.jsonl"))
            .Output(m => new User { UserId = m.Id, FullName = m.Name, UpdatedAt = F.Cast<DateTime>(m.Name.Length > 3) });
        var e = ((Func<CompiledDefinitions>)(() => StreamResolver.Compile(TestDefinitions.Connectors, wrong))).Should().Throw<DefinitionException>().Which;
        e.Errors.Should().ContainSingle().Which.Code.Should().Be("SLU114", "bool does not cast to timestamp");

        var loose = StreamResolver.For<Loose>("loose", Recordings.File("raw.jsonl")).Output(m => new User { UserId = m.Id, FullName = m.Name });
        e = ((Func<CompiledDefinitions>)(() => StreamResolver.Compile(TestDefinitions.Connectors, loose))).Should().Throw<DefinitionException>().Which;
        e.Errors.Should().Contain(x => x.Code == DefinitionErrorCodes.UnsupportedFieldType && x.Message.Contains("Loose.Payload"));
    }
}
