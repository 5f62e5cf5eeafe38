using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.TestSupport;

namespace Sluice.Sinks.Tests;

/// <summary>A resolver with a feature of every stored kind (string key; weight cast from text so that NaN can be written).</summary>
internal static class Gadgets
{
    private const string Yaml = """
        features:
          Gadget:
            sku: {type: string, primary: true}
            count: int64?
            weight: float64?
            active: bool?
            blob: bytes?
            made: date?
            seen: timestamp?
            tags: list<string>?
            size: Size?
            note: string?
        messages:
          Size: {w: int64, h: int64}
          GadgetMessage: {sku: string, count: int64?, weight: string?, active: bool?, blob: string?, made: string?, seen: int64?, tags: list<string>?, size: Size?, note: string?}
        sources:
          gadgets: {kind: recording, path: g.jsonl}
        resolvers:
          gadgets:
            source: gadgets
            message_type: GadgetMessage
            output_features:
              Gadget.sku: _.sku
              Gadget.count: _.count
              Gadget.weight: F.cast(_.weight, float64)
              Gadget.active: _.active
              Gadget.blob: F.cast(_.blob, bytes)
              Gadget.made: F.cast(_.made, date)
              Gadget.seen: F.from_unix_seconds(_.seen)
              Gadget.tags: _.tags
              Gadget.size: _.size
              Gadget.note: _.note
        """;

    public static ResolverPlan Plan { get; } = DefinitionCompiler.CompileText(Yaml, "g.yaml", TestDefinitions.Connectors, out _)!.Resolvers.Single();

    /// <summary>The JSON payloads resolved as one batch; message i has timestamp 1_700_000_000_000_000 + i us. Every message must resolve.</summary>
    public static ResolvedBatch Resolve(params string[] payloads)
    {
        var b = new MessageBatch.Builder();
        for (int i = 0; i < payloads.Length; i++) b.Append("gadgets", 0, i, 1_700_000_000_000_000 + i, null, Encoding.UTF8.GetBytes(payloads[i]));
        var resolved = new ResolverStep(Plan).Process(b.Build(), 0);
        resolved.Reasons.Where(r => r is not null).Should().BeEmpty();
        return resolved;
    }
}
