using System.Text;
using Apache.Arrow;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Execution;

/// <summary>Custom <c>parse:</c> expressions over the raw message bytes: reshape, skip (None), and their outcomes.</summary>
public class ParseExpressionUnitTests
{
    private const string Definitions = """
        features:
          Event:
            id: {type: string, primary: true}
            body: string
        sources:
          events: {kind: recording, path: events.jsonl}
        resolvers:
          creates_only:
            source: events
            message_type: string
            # Only CREATE events; the message becomes the JSON payload's text, the envelope dropped.
            parse: F.if_then_else(F.json_value(_, "$.kind") == "CREATE", F.json_value(_, "$.payload"), None)
            output_features:
              Event.id: F.json_value(_, "$.id")
              Event.body: F.upper(F.json_value(_, "$.text"))
          prefixed_text:
            source: events
            message_type: bytes
            parse: F.if_then_else(F.length(_) > 4, F.substr(_, 4, None), None)
            output_features:
              Event.id: F.cast(F.substr(_, 0, 2), string)
              Event.body: F.cast(_, string)
        """;

    private static ResolverStep Step(string name)
    {
        var compiled = DefinitionCompiler.CompileText(Definitions, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null)
            ?? throw new InvalidOperationException(string.Join("\n", errors));
        return new ResolverStep(compiled.Resolvers.Single(r => r.Name == name));
    }

    private static MessageBatch Batch(params string[] payloads)
    {
        var b = new MessageBatch.Builder();
        for (int i = 0; i < payloads.Length; i++) b.Append("events", 0, i, 1, null, Encoding.UTF8.GetBytes(payloads[i]), []);
        return b.Build();
    }

    [Fact]
    public void A_parse_expression_reshapes_the_message_and_a_None_skips_it()
    {
        var result = Step("creates_only").Process(Batch(
            """{"kind": "CREATE", "payload": "{\"id\": \"e1\", \"text\": \"hello\"}"}""",
            """{"kind": "DELETE", "payload": "{\"id\": \"e2\"}"}""",
            """not json at all""",
            """{"kind": "CREATE", "payload": "{\"id\": \"e3\", \"text\": \"world\"}"}"""), 1);
        result.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.Skipped, MessageOutcome.Skipped, MessageOutcome.Written);
        var ids = (StringArray)result.Features.Column("event.id");
        var bodies = (StringArray)result.Features.Column("event.body");
        (ids.GetString(0), bodies.GetString(0), ids.GetString(1), bodies.GetString(1)).Should().Be(("e1", "HELLO", "e3", "WORLD"));
    }

    [Fact]
    public void Substr_on_bytes_strips_a_prefix_in_a_parse_expression()
    {
        var result = Step("prefixed_text").Process(Batch("ab--rest one", "xy", "cd::rest two"), 1);
        result.Outcomes.Should().Equal(MessageOutcome.Written, MessageOutcome.Skipped, MessageOutcome.Written);
        var ids = (StringArray)result.Features.Column("event.id");
        var bodies = (StringArray)result.Features.Column("event.body");
        (ids.GetString(0), bodies.GetString(0), ids.GetString(1), bodies.GetString(1)).Should().Be(("re", "rest one", "re", "rest two"));
    }
}
