using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Compilation;

/// <summary>
/// Source options are checked at compile time against their kind's table (and the kind's own rules), and a sink's target
/// against what its kind can write: every marked line of <c>source_mistakes.yaml</c> carries the code and words it names.
/// </summary>
public class SourceKindUnitTests
{
    [Fact]
    public void Every_marked_mistake_is_reported_on_its_line_with_its_code_and_nothing_else_is()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Definitions", "source_mistakes.yaml");
        var lines = File.ReadAllLines(path);
        DefinitionCompiler.CompileFile(path, TestDefinitions.Connectors, out var errors).Should().BeNull();

        var marked = lines.Select((text, i) => (Line: i + 1, Mark: text.Contains("# SLU", StringComparison.Ordinal) ? text[(text.IndexOf("# SLU", StringComparison.Ordinal) + 2)..] : null))
            .Where(x => x.Mark is not null).ToList();
        marked.Should().HaveCount(8);
        foreach (var (line, mark) in marked)
        {
            var code = mark![..6];
            var words = mark[7..];
            errors.Should().Contain(e => e.Code == code && e.Location.Line == line && e.Message.Contains(words.Replace("needs ", "", StringComparison.Ordinal).Replace("not a recording", "is not a recording", StringComparison.Ordinal), StringComparison.Ordinal),
                $"line {line} says {mark}; errors:\n{string.Join("\n", errors)}");
        }
        errors.Should().HaveCount(marked.Count, "a pass-through librdkafka property and a correct source report nothing");
    }
}
