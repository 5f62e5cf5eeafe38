using System.Text;
using Sluice.Pipeline.Compilation;
using Sluice.TestSupport;

namespace Sluice.Perf;

/// <summary>
/// validate: how compiling a definition file grows with its size. Two shapes, each at a tenth of the features and at
/// all of them, alternated in one run: one class of N features written by one resolver from a message of N fields
/// (wide), and N/30 classes of 30 features with a resolver each (many). The ratio is the time per feature at N over
/// the time per feature at N/10: 1 is linear growth, and a quadratic step shows as about 10.
/// </summary>
internal static class ValidateBenchmark
{
    public static int Run(int features, string? jsonPath)
    {
        var results = new Dictionary<string, object>();
        foreach (var shape in new[] { "wide", "many" })
        {
            var small = Definitions(shape, features / 10);
            var large = Definitions(shape, features);
            long Compile(string text) =>
                DefinitionCompiler.CompileText(text, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null) is { } c
                    ? c.Resolvers.Sum(r => (long)r.Outputs.Count)
                    : throw new InvalidOperationException(string.Join("\n", errors.Take(5)));
            Compile(small);
            var ((smallSeconds, _), (largeSeconds, _)) = Measure.BestOfAlternating(() => Compile(small), () => Compile(large), 3);
            double ratio = Math.Round(largeSeconds / features / (smallSeconds / (features / 10)), 2);
            Console.WriteLine($"validate/{shape}: {features / 10:N0} features in {smallSeconds:F2} s, {features:N0} in {largeSeconds:F2} s; time per feature grows {ratio}x");
            results[shape] = new { small_features = features / 10, small_seconds = Math.Round(smallSeconds, 3), features, seconds = Math.Round(largeSeconds, 3), ratio };
        }
        Report.Write(jsonPath, new { benchmark = "validate/definitions", features, shapes = results });
        return 0;
    }

    private static string Definitions(string shape, int n)
    {
        var s = new StringBuilder("features:\n");
        var source = "sources:\n  s: {kind: kafka, bootstrap_servers: localhost:9092, topic: t}\nresolvers:\n";
        if (shape == "wide")
        {
            s.Append("  Wide:\n    id: {type: int64, primary: true}\n");
            for (int i = 0; i < n; i++) s.Append($"    f{i}: int64?\n");
            s.Append("messages:\n  WideMessage:\n    id: int64\n");
            for (int i = 0; i < n; i++) s.Append($"    f{i}: int64?\n");
            s.Append(source).Append("  r:\n    source: s\n    message_type: WideMessage\n    output_features:\n      Wide.id: _.id\n");
            for (int i = 0; i < n; i++) s.Append($"      Wide.f{i}: _.f{i} * 2\n");
            return s.ToString();
        }
        int classes = n / 30;
        for (int c = 0; c < classes; c++)
        {
            s.Append($"  C{c}:\n    id: {{type: int64, primary: true}}\n");
            for (int i = 0; i < 29; i++) s.Append($"    f{i}: int64?\n");
        }
        s.Append("messages:\n  M:\n    id: int64\n");
        for (int i = 0; i < 29; i++) s.Append($"    f{i}: int64?\n");
        s.Append(source);
        for (int c = 0; c < classes; c++)
        {
            s.Append($"  r{c}:\n    source: s\n    message_type: M\n    output_features:\n      C{c}.id: _.id\n");
            for (int i = 0; i < 29; i++) s.Append($"      C{c}.f{i}: _.f{i} + {c}\n");
        }
        return s.ToString();
    }
}
