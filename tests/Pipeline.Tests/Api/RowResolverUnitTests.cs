using System.Text.Json;
using CsCheck;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Api;

/// <summary>Row resolvers (the @stream migration path) against their expression twins, and the testing API.</summary>
public class RowResolverUnitTests
{
    /// <summary>The seed's process_users, row by row, as a user migrating from @stream would write it.</summary>
    internal static User? ProcessUsers(UserMessage m) => new()
    {
        UserId = m.Id,
        FullName = m.Name,
        EmailAddress = m.ContactInfo.EmailAddress,
        UpdatedAt = DateTime.UnixEpoch.AddTicks((long)Math.Round(m.UpdatedAt / 1_000_000.0 * 1_000_000) * 10),
    };

    internal static readonly StreamResolver<UserMessage, User> Rows =
        StreamResolver.ForRows<UserMessage, User>("process_users", Kafka.Topic("users", "localhost:9092"), ProcessUsers);

    internal static readonly StreamResolver<UserMessage, User> Expressions =
        StreamResolver.For<UserMessage>("get_users_stream", Kafka.Topic("users", "localhost:9092"))
            .Output(m => new User
            {
                UserId = m.Id,
                FullName = m.Name,
                EmailAddress = m.ContactInfo.EmailAddress,
                UpdatedAt = F.FromUnixSeconds(m.UpdatedAt / 1_000_000.0),
            });

    /// <summary>Seed-shaped JSON, with null and missing emails, odd names, and some messages that do not parse.</summary>
    private static readonly Gen<string> Payloads = Gen.Select(Gen.Long, Gen.String, Gen.Long[-62_135_596_800_000_000L, 253_402_300_799_000_000L],
        Gen.String.AlphaNumeric, Gen.Int[0, 9], (id, name, updated, email, shape) =>
        {
            var contact = shape switch
            {
                0 => new Dictionary<string, object?> { ["phone_number"] = "555" },
                1 => new Dictionary<string, object?> { ["phone_number"] = "555", ["email_address"] = null },
                _ => new Dictionary<string, object?> { ["phone_number"] = "555", ["email_address"] = email + "@x.org" },
            };
            var message = new Dictionary<string, object?> { ["id"] = id, ["name"] = name, ["updated_at"] = updated, ["contact_info"] = contact };
            if (shape == 9) message.Remove("name"); // parse_failed on both sides
            return JsonSerializer.Serialize(message);
        });

    [Fact]
    public async Task The_row_resolver_and_its_expression_twin_give_identical_outcomes_and_features()
    {
        var rows = StreamResolver.Compile(TestDefinitions.Connectors, Rows).Resolvers.Single();
        var expressions = StreamResolver.Compile(TestDefinitions.Connectors, Expressions).Resolvers.Single();
        rows.Rows.Should().NotBeNull();
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        await Payloads.Array[1, 30].SampleAsync(async payloads =>
        {
            var messages = payloads.Select(p => TestMessage.Text(p)).ToList();
            var a = await ResolverTest.RunAsync(rows, messages, now);
            var b = await ResolverTest.RunAsync(expressions, messages, now);
            a.Messages.Select(m => m.Outcome).Should().Equal(b.Messages.Select(m => m.Outcome));
            for (int i = 0; i < messages.Count; i++)
                a.Messages[i].Features.Should().BeEquivalentTo(b.Messages[i].Features, $"message {i}: {payloads[i]}");
            a.Counts.Should().Be(b.Counts);
        }, iter: 200);
    }

    [Fact]
    public async Task The_testing_API_returns_parsed_rows_features_and_each_outcome_in_one_call()
    {
        var t = new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc);
        var resolver = Expressions.HeaderFilter("X-Chalk-MessageType", "User").Deduplicate(m => m.Id, TimeSpan.FromHours(24));
        var result = await ResolverTest.RunAsync(resolver,
        [
            TestMessage.Json(new UserMessage(123, "John Smith", 1_700_000_000_000_000, new ContactInfo("555-555-5555", "john.smith@gmail.com")),
                key: "123", timestamp: t, headers: ("X-Chalk-MessageType", "User")),
            TestMessage.Json(new UserMessage(123, "John Again", 1_700_000_001_000_000, new ContactInfo("555", null)), timestamp: t,
                headers: ("X-Chalk-MessageType", "User")),
            TestMessage.Text("""{"id": 9001, "amount": 5}""", headers: ("X-Chalk-MessageType", "Transaction")),
            TestMessage.Text("""{"id": "not a number"}""", headers: ("X-Chalk-MessageType", "User")),
        ], now: t);

        result.Messages.Select(m => m.Outcome).Should().Equal("written", "duplicate", "filtered", "parse_failed");
        result.Messages[0].Parsed.Should().BeEquivalentTo(new Dictionary<string, object?>
        {
            ["id"] = 123L, ["name"] = "John Smith", ["updated_at"] = 1_700_000_000_000_000L,
            ["contact_info"] = new Dictionary<string, object?> { ["phone_number"] = "555-555-5555", ["email_address"] = "john.smith@gmail.com" },
        });
        result.Messages[0].Features.Should().BeEquivalentTo(new Dictionary<string, object?>
        {
            ["user.user_id"] = 123L, ["user.full_name"] = "John Smith", ["user.email_address"] = "john.smith@gmail.com",
            ["user.updated_at"] = new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc),
        });
        result.Messages[3].Reason.Should().Contain("field 'id'");
        result.Rows<User>().Should().ContainSingle().Which.FullName.Should().Be("John Smith");
        result.Counts.Total.Should().Be(4);
    }

    [Fact]
    public async Task A_row_resolver_that_throws_fails_that_message_only_and_a_null_skips_it()
    {
        var picky = StreamResolver.ForRows<UserMessage, User>("picky", Recordings.File("users.jsonl"), m =>
            m.Id < 0 ? throw new InvalidOperationException("negative id") : m.Id == 0 ? null : ProcessUsers(m));
        var result = await ResolverTest.RunAsync(picky,
        [
            TestMessage.Json(new UserMessage(-1, "a", 0, new ContactInfo("1", null))),
            TestMessage.Json(new UserMessage(0, "b", 0, new ContactInfo("1", null))),
            TestMessage.Json(new UserMessage(5, "c", 0, new ContactInfo("1", null))),
        ]);
        result.Messages.Select(m => m.Outcome).Should().Equal("failed", "skipped", "written");
        result.Messages[0].Reason.Should().Contain("negative id").And.Contain("test/0/0");
    }
}
