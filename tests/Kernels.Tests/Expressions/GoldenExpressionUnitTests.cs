using System.Text;
using System.Text.Json;
using FluentAssertions;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Tests.Support;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Tests.Expressions;

/// <summary>Runs the golden files: every value case through kernels and the row interpreter, every error case for its code.</summary>
public class GoldenExpressionUnitTests
{
    [Fact]
    public void Expression_values_match_golden_file_in_kernels_and_interpreter()
    {
        var failures = new List<string>();
        var cases = GoldenCase.Load("expressions.txt").ToList();
        cases.Should().HaveCountGreaterThan(100);
        foreach (var c in cases)
        {
            try
            {
                var (kernel, row) = Evaluate(c);
                if (kernel != c.Expected) failures.Add($"{c}: kernel gave {kernel}, expected {c.Expected}");
                if (row != c.Expected) failures.Add($"{c}: interpreter gave {row}, expected {c.Expected}");
            }
            catch (Exception e)
            {
                failures.Add($"{c}: {e.GetType().Name}: {e.Message}");
            }
        }
        failures.Should().BeEmpty();
    }

    [Fact]
    public void Compile_errors_match_golden_file()
    {
        var failures = new List<string>();
        foreach (var c in GoldenCase.Load("errors.txt"))
        {
            var root = c.Scope.Parse(c.SchemaText);
            var ir = Expression.Check(c.Expression, root, c.Scope, out var errors);
            if (ir is not null) { failures.Add($"{c}: compiled, expected {c.Expected}"); continue; }
            if (!errors.Any(e => e.Code == c.Expected))
                failures.Add($"{c}: got {string.Join(", ", errors.Select(e => e.Code + " " + e.Message))}, expected {c.Expected}");
            foreach (var e in errors)
            {
                // Every diagnostic must render with a location and a caret.
                var text = e.Format(c.Expression, "test");
                if (!text.Contains('^') || !text.StartsWith(e.Code, StringComparison.Ordinal)) failures.Add($"{c}: bad rendering {text}");
            }
        }
        failures.Should().BeEmpty();
    }

    [Fact]
    public void Error_codes_are_unique_and_each_has_a_golden_case()
    {
        var codes = ErrorCodes.All.Select(c => c.Code).ToList();
        codes.Should().OnlyHaveUniqueItems();
        codes.Should().AllSatisfy(c => c.Should().MatchRegex(@"^SLU\d{3}$"));
        var covered = GoldenCase.Load("errors.txt").Select(c => c.Expected).ToHashSet();
        codes.Where(c => !covered.Contains(c)).Should().BeEmpty("every code needs a golden case in errors.txt");
    }

    private static (string Kernel, string Row) Evaluate(GoldenCase c)
    {
        var root = c.Scope.Parse(c.SchemaText);
        var column = Column(root, c.Message!);
        var compiled = Expression.Compile(c.Expression, root, c.Scope);
        var kernel = ValueText.Format(ArrowValues.GetRow(compiled.Evaluate(column), 0, compiled.Type), compiled.Type);
        var row = ValueText.Format(compiled.EvaluateRow(ArrowValues.GetRow(column, 0, root)), compiled.Type);
        return (kernel, row);
    }

    internal static Apache.Arrow.IArrowArray Column(DataType root, string message)
    {
        byte[] bytes = root.Kind switch
        {
            TypeKind.String => Encoding.UTF8.GetBytes(JsonSerializer.Deserialize<string>(message)!),
            TypeKind.Bytes => Convert.FromHexString(message[2..]),
            _ => Encoding.UTF8.GetBytes(message),
        };
        var parsed = ParseKernel.For(root).Parse(ParseKernel.Messages([bytes]));
        parsed.Errors.Should().BeEmpty();
        return parsed.Column;
    }
}
