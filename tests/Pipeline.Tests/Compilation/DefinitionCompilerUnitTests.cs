using FluentAssertions;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Compilation;

public class DefinitionCompilerUnitTests
{
    private static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Definitions", name);

    [Fact]
    public void The_seed_definitions_compile_into_plans()
    {
        var compiled = DefinitionCompiler.CompileFile(PathOf("seed.yaml"), TestDefinitions.Connectors, out var errors);
        errors.Should().BeEmpty();
        compiled!.Resolvers.Select(r => r.Name).Should().Equal("get_users_stream", "get_transactions_stream", "process_new_items", "events_raw", "orders");

        var users = compiled.Resolvers[0];
        users.Outputs.Select(o => o.Feature.Fqn).Should().Equal("user.user_id", "user.full_name", "user.email_address", "user.updated_at");
        users.Outputs[3].Expression.Type.Kind.Should().Be(TypeKind.Timestamp);
        users.HeaderFilters.Single().Name.Should().Be("X-Chalk-MessageType");
        users.HeaderFilters.Single().Values.Single().Should().Equal("User"u8.ToArray());
        users.SkipOffline.Should().BeTrue();
        users.Source.Options["bootstrap_servers"].Value.Should().Be("localhost:9092", "${KAFKA:-localhost:9092} falls back to its default");
        users.Class.MaxStaleness.Should().Be(TimeSpan.FromDays(30));

        var tx = compiled.Resolvers[1];
        tx.DeduplicationWindow.Should().Be(TimeSpan.FromHours(24));
        tx.RunsIn("dev").Should().BeTrue();
        tx.RunsIn("staging").Should().BeFalse();

        compiled.Resolvers[2].Sink.Should().BeEquivalentTo(new SinkPlan("item_embeddings", ["Item.id", "Item.price"], "json"));
        compiled.Resolvers[3].MessageType.Should().Be(DataType.String);
        var order = compiled.Classes.Single(c => c.Name == "Order");
        order.Features.Single(f => f.Name == "total").Derived!.Type.Kind.Should().Be(TypeKind.Float64);
        compiled.Resolvers[4].Sink!.Format.Should().Be("ipc_stream");
    }

    [Fact]
    public void A_broken_resolver_is_one_error_not_followed_by_false_ones_about_what_it_would_produce()
    {
        // process_new_items is the only writer of Item.id and Item.price, which its sink sends on.
        var text = File.ReadAllText(PathOf("seed.yaml")).Replace("Item.id: _.id", "Item.id: _.idd", StringComparison.Ordinal);
        DefinitionCompiler.CompileText(text, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null).Should().BeNull();
        errors.Should().ContainSingle().Which.Resolver.Should().Be("process_new_items");
        errors[0].Code.Should().NotBe(DefinitionErrorCodes.SinkFeatureNotProduced);
    }

    [Fact]
    public void Environment_variables_expand_in_values()
    {
        var set = YamlDefinitionLoader.Load(File.ReadAllText(PathOf("seed.yaml")), "seed.yaml", out var errors,
            name => name == "KAFKA" ? "broker:29092" : null);
        errors.Should().BeEmpty();
        set!.Sources[0].Options["bootstrap_servers"].Value.Should().Be("broker:29092");
    }

    [Fact]
    public void Every_mistake_of_the_seed_is_reported_at_once_with_code_and_location()
    {
        var text = File.ReadAllText(PathOf("seed_mistakes.yaml"));
        DefinitionCompiler.CompileText(text, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null).Should().BeNull();
        var lines = text.Split('\n');
        string At(string needle) => $"sluice.yaml:{Array.FindIndex(lines, l => l.Contains(needle, StringComparison.Ordinal)) + 1}:";

        var expected = new (string Code, string Line, string Says)[]
        {
            (DefinitionErrorCodes.UnknownMessageType, At("message_type: UsersMessage"), "did you mean 'UserMessage'"),
            (DefinitionErrorCodes.UnknownFeature, At("Transaction.timestamp:"), "declares no feature 'timestamp'"),
            (ErrorCodes.TypeUsedAsExpression, At("Transaction.amount: int"), "'int' is a type"),
            (ErrorCodes.FieldAccessOnNonStruct, At("Event.timestamp: _.timestamp"), "the message type is string"),
            (DefinitionErrorCodes.UnsupportedFieldType, At("account_id: int | str"), "union type 'int | str'"),
            (DefinitionErrorCodes.UnsupportedFieldType, At("contact: PhoneInfo | EmailInfo"), "PhoneInfo | EmailInfo"),
            (DefinitionErrorCodes.UnsupportedFieldType, At("blob: Any"), "'Any' is not supported"),
            (DefinitionErrorCodes.RecursiveType, At("Parent: {id: int64, parent: Parent | None}"), "contains itself"),
            (DefinitionErrorCodes.UnknownSource, At("source: nowhere"), "unknown source 'nowhere'"),
            (DefinitionErrorCodes.FeatureTypeMismatch, At("User.updated_at: _.updated_at"), "expects timestamp? but the expression yields int64; wrap it in F.from_unix_seconds"),
            (ErrorCodes.UnknownField, At("User.full_name: _.nmae"), "did you mean 'name'"),
            (DefinitionErrorCodes.InvalidDuration, At("within: a day"), "'a day' is not a duration"),
            (DefinitionErrorCodes.UnknownSinkTarget, At("send_to: somewhere"), "'somewhere' is not a declared source"),
            (DefinitionErrorCodes.SinkFeatureNotProduced, At("User.nope"), "'User.nope' is not produced"),
            (DefinitionErrorCodes.InvalidDuration, At("late_arrival_deadline: soon"), "'soon' is not a duration"),
            (DefinitionErrorCodes.UnknownKey, At("colour: blue"), "unknown key 'colour'"),
            (DefinitionErrorCodes.UnsetVariable, At("SLUICE_TEST_UNSET_BROKERS"), "SLUICE_TEST_UNSET_BROKERS is not set"),
            (DefinitionErrorCodes.HeaderFilterWithoutValues, At("[[X-Chalk-MessageType]]"), "lists no values"),
            (DefinitionErrorCodes.UnknownKey, At("skip_ofline"), "unknown key 'skip_ofline'"),
            (DefinitionErrorCodes.UnknownKey, At("max_stalenes: 7d"), "unknown option 'max_stalenes'; did you mean 'max_staleness'?"),
        };
        foreach (var (code, line, says) in expected)
            errors.Should().Contain(e => e.Code == code && e.ToString().Contains(line, StringComparison.Ordinal) && e.Message.Contains(says, StringComparison.Ordinal),
                $"expected {code} at {line} saying \"{says}\"; got:\n{string.Join("\n", errors)}");
        // card_id: int | None is a nullable int, which is fine.
        errors.Should().NotContain(e => e.Message.Contains("card_id", StringComparison.Ordinal));
    }

    [Fact]
    public void Expression_errors_point_at_the_column_inside_the_yaml_value()
    {
        var yaml = """
            features:
              User: {user_id: {type: int64, primary: true}, name: string}
            messages:
              M: {id: int64, name: string}
            sources:
              s: {kind: recording, path: x.jsonl}
            resolvers:
              r:
                source: s
                message_type: M
                output_features:
                  User.user_id: _.id
                  User.name: F.lower(_.nam)
            """;
        var set = YamlDefinitionLoader.Load(yaml, "sluice.yaml", out _);
        DefinitionCompiler.Compile(set!, TestDefinitions.Connectors, out var errors);
        errors.Single().ToString().Should().Be(
            "SLU101: resolver 'r', feature 'user.name': M has no field 'nam'; did you mean 'name'? (fields: id, name) (sluice.yaml:13:28)");
    }

    [Fact]
    public void Definition_error_codes_are_unique_and_do_not_collide_with_expression_codes()
    {
        var all = DefinitionErrorCodes.All.Select(c => c.Code).Concat(ErrorCodes.All.Select(c => c.Code)).ToList();
        all.Should().OnlyHaveUniqueItems();
        DefinitionErrorCodes.All.Should().AllSatisfy(c => c.Code.Should().MatchRegex(@"^SLU2\d\d$"));
    }

    [Theory]
    [InlineData("24h", 24 * 3600)]
    [InlineData("7d", 7 * 86400)]
    [InlineData("1h30m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("2w", 14 * 86400)]
    public void Durations_parse(string text, double seconds) => Durations.TryParse(text)!.Value.TotalSeconds.Should().Be(seconds);

    [Theory]
    [InlineData("24")]
    [InlineData("a day")]
    [InlineData("")]
    [InlineData("1y")]
    public void Bad_durations_are_rejected(string text) => Durations.TryParse(text).Should().BeNull();
}
