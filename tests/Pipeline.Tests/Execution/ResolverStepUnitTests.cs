using System.Text;
using Apache.Arrow;
using FluentAssertions;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Execution;

public class ResolverStepUnitTests
{
    private const long Now = 1_700_000_100_000_000;

    private static CompiledDefinitions Seed()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Definitions", "seed.yaml");
        return DefinitionCompiler.CompileFile(path, TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
    }

    private static ResolverStep Step(string resolver) => new(Seed().Resolvers.Single(r => r.Name == resolver));

    private static MessageBatch Batch(params (string Type, string Payload, long TsMicros)[] messages)
    {
        var b = new MessageBatch.Builder();
        long offset = 0;
        foreach (var (type, payload, ts) in messages)
            b.Append("users", 0, offset++, ts, Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes(payload),
                [new("X-Chalk-MessageType", Encoding.UTF8.GetBytes(type))]);
        return b.Build();
    }

    private static string Cell(RecordBatch b, string column, int row)
    {
        int i = b.Schema.GetFieldIndex(column);
        var field = b.Schema.GetFieldByIndex(i);
        var type = field.DataType switch
        {
            Apache.Arrow.Types.Int64Type => DataType.Int64, Apache.Arrow.Types.DoubleType => DataType.Float64,
            Apache.Arrow.Types.StringType => DataType.String, Apache.Arrow.Types.TimestampType => DataType.Timestamp,
            _ => throw new NotSupportedException(field.DataType.Name),
        };
        return ValueText.Format(ArrowValues.GetRow(b.Column(i), row, type), type);
    }

    [Fact]
    public void The_seed_message_becomes_the_seed_features()
    {
        var result = Step("get_users_stream").Process(Batch(("User",
            """{"id": 123, "name": "John Smith", "updated_at": 1700000000000000, "contact_info": {"phone_number": "555-555-5555", "email_address": "john.smith@gmail.com"}}""",
            Now)), Now);
        result.Outcomes.Should().Equal(MessageOutcome.Written);
        var f = result.Features;
        f.Schema.FieldsList.Select(x => x.Name).Should().Equal("user.user_id", "user.full_name", "user.email_address", "user.updated_at", "__ts__");
        Cell(f, "user.user_id", 0).Should().Be("123");
        Cell(f, "user.full_name", 0).Should().Be("\"John Smith\"");
        Cell(f, "user.email_address", 0).Should().Be("\"john.smith@gmail.com\"");
        Cell(f, "user.updated_at", 0).Should().Be("2023-11-14T22:13:20Z");
        Cell(f, "__ts__", 0).Should().Be(ValueText.Format(Now, DataType.Timestamp), "without a feature_time feature, feature time is the message timestamp");
    }

    [Fact]
    public void Header_routing_sends_each_message_to_its_resolver_only()
    {
        var batch = Batch(
            ("User", """{"id": 1, "name": "a", "updated_at": 0, "contact_info": {"phone_number": "1"}}""", Now),
            ("Transaction", """{"id": 2, "submitted": 1700000000000000, "amount": 5}""", Now),
            ("Other", "{}", Now));
        var users = Step("get_users_stream").Process(batch, Now);
        var tx = Step("get_transactions_stream").Process(batch, Now);
        users.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.Filtered, MessageOutcome.Filtered);
        tx.Outcomes.Should().Equal(MessageOutcome.Filtered, MessageOutcome.Written, MessageOutcome.Filtered);
        Cell(tx.Features, "transaction.amount", 0).Should().Be("5");
        tx.RowMessage.Should().Equal(1);
        tx.DeduplicationKeys!.Length.Should().Be(1);
    }

    [Fact]
    public void A_malformed_message_fails_alone_with_reason_and_position()
    {
        var result = Step("get_users_stream").Process(Batch(
            ("User", """{"id": 1, "name": "a", "updated_at": 0, "contact_info": {"phone_number": "1"}}""", Now),
            ("User", """{"id": "x", "name": "b"}""", Now),
            ("User", """{"id": 3, "name": "c", "updated_at": 0, "contact_info": {"phone_number": "3"}}""", Now)), Now);
        result.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.ParseFailed, MessageOutcome.Written);
        result.Reasons[1].Should().Contain("users/0/1").And.Contain("field 'id'");
        result.RowMessage.Should().Equal(0, 2);
        Cell(result.Features, "user.user_id", 1).Should().Be("3");
    }

    [Fact]
    public void Late_messages_leave_before_parsing()
    {
        // The users source has late_arrival_deadline: 1h.
        var result = Step("get_users_stream").Process(Batch(
            ("User", "not even json", Now - 2 * 3_600_000_000L),
            ("User", """{"id": 1, "name": "a", "updated_at": 0, "contact_info": {"phone_number": "1"}}""", Now - 60_000_000)), Now);
        result.Outcomes.Should().Equal(MessageOutcome.Late, MessageOutcome.Written);
    }

    [Fact]
    public void A_null_reaching_a_non_nullable_feature_fails_that_message_naming_the_feature()
    {
        var yaml = """
            features:
              Transaction: {id: {type: int64, primary: true}, submitted: timestamp}
            messages:
              TransactionMessage: {id: int64, submitted: float64?}
            sources:
              s: {kind: recording, path: x.jsonl}
            resolvers:
              r:
                source: s
                message_type: TransactionMessage
                output_features:
                  Transaction.id: _.id
                  Transaction.submitted: F.from_unix_seconds(_.submitted / 1_000_000)
            """;
        var plan = DefinitionCompiler.CompileText(yaml, "t.yaml", TestDefinitions.Connectors, out var errors)!.Resolvers.Single();
        errors.Should().BeEmpty();
        var result = new ResolverStep(plan).Process(Batch(("-", """{"id": 1, "submitted": null}""", Now), ("-", """{"id": 2, "submitted": 1.7e15}""", Now)), Now);
        result.Outcomes.Should().Equal(MessageOutcome.Failed, MessageOutcome.Written);
        result.Reasons[0].Should().Contain("feature 'transaction.submitted' is not nullable");
        Cell(result.Features, "transaction.id", 0).Should().Be("2");
    }

    [Fact]
    public void An_int64_expression_feeding_a_float64_feature_yields_a_float64_column()
    {
        var yaml = """
            features:
              Item: {id: {type: int64, primary: true}, price: float64}
            messages:
              ItemMessage: {id: int64, cents: int64?}
            sources:
              s: {kind: recording, path: x.jsonl}
            resolvers:
              r:
                source: s
                message_type: ItemMessage
                output_features:
                  Item.id: _.id
                  Item.price: _.cents
            """;
        var plan = DefinitionCompiler.CompileText(yaml, "t.yaml", TestDefinitions.Connectors, out var errors)!.Resolvers.Single();
        errors.Should().BeEmpty();
        var result = new ResolverStep(plan).Process(Batch(("-", """{"id": 1, "cents": 250}""", Now), ("-", """{"id": 2, "cents": null}""", Now)), Now);
        result.Features.Column("item.price").Should().BeOfType<DoubleArray>();
        Cell(result.Features, "item.price", 0).Should().Be("250.0");
        result.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.Failed);
    }

    [Fact]
    public void String_messages_envelopes_and_derived_features()
    {
        var events = Step("events_raw").Process(Batch(("-", """  {"id": "E1", "metadata": {"timestamp": "2024-01-01"}}  """, Now)), Now);
        Cell(events.Features, "event.id", 0).Should().Be("\"E1\"");
        Cell(events.Features, "event.raw_data_cleaned", 0).Should().Be("\"{\\\"id\\\": \\\"e1\\\", \\\"metadata\\\": {\\\"timestamp\\\": \\\"2024-01-01\\\"}}\"");
        Cell(events.Features, "event.timestamp", 0).Should().Be("\"2024-01-01\"");

        var orders = Step("orders").Process(Batch(("-", """{"id": 7, "price": 2.5, "qty": null}""", Now), ("-", """{"id": 8, "price": 2.0, "qty": 3}""", Now)), Now);
        orders.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.Written);
        Cell(orders.Features, "order.qty", 0).Should().Be("0", "qty falls back to the envelope's offset");
        Cell(orders.Features, "order.total", 1).Should().Be("6.0");
        Cell(orders.Features, "order.total", 0).Should().Be("0.0");
        ValueText.Format(ArrowValues.GetRow(orders.DeduplicationKeys!, 1, DataType.String), DataType.String).Should().Be("\"8-users\"");
    }
}
