using FluentAssertions;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Tests.Expressions;

public class ParserUnitTests
{
    private static string Shape(SyntaxNode n) => n switch
    {
        RootSyntax => "_",
        NameSyntax x => x.Name,
        LiteralSyntax l => l.Value?.ToString() ?? "None",
        MemberSyntax m => $"{Shape(m.Target)}.{m.Name}",
        CallSyntax c => $"{Shape(c.Target)}({string.Join(", ", c.Arguments.Select(a => (a.Name is null ? "" : a.Name + "=") + Shape(a.Value)))})",
        UnarySyntax u => $"({u.Op} {Shape(u.Operand)})",
        BinarySyntax b => $"({Shape(b.Left)} {OperatorText.Of(b.Op)} {Shape(b.Right)})",
        _ => "?",
    };

    [Theory]
    [InlineData("1 + 2 * 3", "(1 + (2 * 3))")]
    [InlineData("(1 + 2) * 3", "((1 + 2) * 3)")]
    [InlineData("-_.a ** 2", null)]
    [InlineData("a or b and not c", "(a or (b and (Not c)))")]
    [InlineData("not a == b", "(Not (a == b))")]
    [InlineData("x < y < z", "((x < y) and (y < z))")]
    [InlineData("a | b & c", "(a or (b and c))")]
    [InlineData("_.a & _.b > 1", "((_.a and _.b) > 1)")]
    [InlineData("10 // 3 % 2", "((10 // 3) % 2)")]
    [InlineData("F.f(_.a.b, k=1_000_000)", "F.f(_.a.b, k=1000000)")]
    [InlineData("F.p(_).user_type", "F.p(_).user_type")]
    [InlineData("-1 - -2", "((Negate 1) - (Negate 2))")]
    public void Precedence_follows_python(string text, string? expected)
    {
        var node = ExpressionParser.Parse(text, out var error);
        if (expected is null)
        {
            error.Should().NotBeNull();
            return;
        }
        error.Should().BeNull();
        Shape(node!).Should().Be(expected);
    }

    [Fact]
    public void Literals_decode_escapes_and_bytes()
    {
        var s = (LiteralSyntax)ExpressionParser.Parse("'a\\n\\u00e9\\x41'", out _)!;
        s.Value.Should().Be("a\né\x41");
        var b = (LiteralSyntax)ExpressionParser.Parse("b\"\\x00User\"", out _)!;
        b.Value.Should().BeEquivalentTo(new byte[] { 0, (byte)'U', (byte)'s', (byte)'e', (byte)'r' });
        ((LiteralSyntax)ExpressionParser.Parse("1.5e3", out _)!).Value.Should().Be(1500.0);
        ((LiteralSyntax)ExpressionParser.Parse("None", out _)!).Kind.Should().Be(LiteralKind.None);
    }

    [Fact]
    public void Errors_point_at_line_and_column_with_a_caret()
    {
        ExpressionParser.Parse("F.lower(_.name) $ 2", out var error);
        error!.Code.Should().Be(ErrorCodes.UnexpectedCharacter);
        error.Format("F.lower(_.name) $ 2", "sluice.yaml").Should().Be(
            "SLU001: unexpected character '$'; expressions use _, literals, operators and F.name(...) calls (sluice.yaml:1:17)\n" +
            "  F.lower(_.name) $ 2\n" +
            "                  ^");
    }

    [Fact]
    public void Type_checker_reports_every_error_of_an_expression()
    {
        var root = DataType.StructOf("M", [new StructField("a", DataType.Int64)]);
        Expression.Check("_.x + _.y + F.nope(_.a)", root, null, out var errors).Should().BeNull();
        errors.Select(e => e.Code).Should().Equal(ErrorCodes.UnknownField, ErrorCodes.UnknownField, ErrorCodes.UnknownFunction);
    }

    [Fact]
    public void Unknown_field_suggests_the_closest_name()
    {
        var root = DataType.StructOf("UserMessage", [new StructField("updated_at", DataType.Int64)]);
        Expression.Check("_.updatd_at", root, null, out var errors);
        errors.Single().Message.Should().Contain("did you mean 'updated_at'");
    }

    [Fact]
    public void Nullable_expression_types_follow_their_inputs()
    {
        var root = DataType.StructOf("M", [new StructField("a", DataType.Int64), new StructField("s", DataType.String.WithNullable(true))]);
        Expression.Compile("_.a / 1_000_000", root).Type.Should().Be(DataType.Float64.WithNullable(true));
        Expression.Compile("F.from_unix_seconds(_.a)", root).Type.Kind.Should().Be(TypeKind.Timestamp);
        Expression.Compile("F.lower(_.s)", root).Type.Should().Be(DataType.String.WithNullable(true));
        Expression.Compile("F.is_null(_.s)", root).Type.Should().Be(DataType.Bool);
        Expression.Compile("F.coalesce(_.s, 'x')", root).Type.Should().Be(DataType.String);
    }

    [Fact]
    public void Constant_sub_trees_are_folded_once()
    {
        var root = DataType.StructOf("M", [new StructField("a", DataType.Int64)]);
        Expression.Compile("F.upper('ab') + 'c'", root).IsConstant.Should().BeTrue();
        Expression.Compile("_.a + 1", root).IsConstant.Should().BeFalse();
    }
}
