using Sluice.Kernels.Diagnostics;

namespace Sluice.Kernels.Expressions.Syntax;

/// <summary>Untyped tree of an expression as written. The binder turns it into typed IR.</summary>
internal abstract record SyntaxNode(TextSpan Span);

/// <summary><c>_</c>: the message column.</summary>
internal sealed record RootSyntax(TextSpan Span) : SyntaxNode(Span);

/// <summary>A bare identifier: <c>F</c>, a type name, the head of an enum constant.</summary>
internal sealed record NameSyntax(string Name, TextSpan Span) : SyntaxNode(Span);

/// <summary><c>target.name</c>.</summary>
internal sealed record MemberSyntax(SyntaxNode Target, string Name, TextSpan NameSpan, TextSpan Span) : SyntaxNode(Span);

/// <summary>A call <c>target(args)</c>; functions are written <c>F.name(...)</c>.</summary>
internal sealed record CallSyntax(SyntaxNode Target, IReadOnlyList<ArgumentSyntax> Arguments, TextSpan Span) : SyntaxNode(Span);

/// <summary>One call argument, positional (<see cref="Name"/> null) or named (<c>index=0</c>).</summary>
internal sealed record ArgumentSyntax(string? Name, SyntaxNode Value);

/// <summary>The kind of a literal.</summary>
internal enum LiteralKind
{
    /// <summary>int64</summary>
    Int,
    /// <summary>float64</summary>
    Float,
    /// <summary>'text' or "text"</summary>
    String,
    /// <summary>b"bytes"</summary>
    Bytes,
    /// <summary>True / False</summary>
    Bool,
    /// <summary>None</summary>
    None,
}

/// <summary>A literal; <see cref="Value"/> is long, double, string, byte[], bool or null.</summary>
internal sealed record LiteralSyntax(LiteralKind Kind, object? Value, TextSpan Span) : SyntaxNode(Span);

/// <summary>Unary operators.</summary>
internal enum UnaryOp
{
    /// <summary>-x</summary>
    Negate,
    /// <summary>not x, ~x</summary>
    Not,
}

/// <summary><c>-x</c>, <c>not x</c>, <c>~x</c>.</summary>
internal sealed record UnarySyntax(UnaryOp Op, SyntaxNode Operand, TextSpan Span) : SyntaxNode(Span);

/// <summary>Binary operators, Python spelling in comments.</summary>
internal enum BinaryOp
{
    /// <summary>+</summary>
    Add,
    /// <summary>-</summary>
    Subtract,
    /// <summary>*</summary>
    Multiply,
    /// <summary>/ (true division, float64)</summary>
    Divide,
    /// <summary>// (floor division)</summary>
    FloorDivide,
    /// <summary>% (floored modulo, sign of the divisor)</summary>
    Modulo,
    /// <summary>==</summary>
    Equal,
    /// <summary>!=</summary>
    NotEqual,
    /// <summary>&lt;</summary>
    Less,
    /// <summary>&lt;=</summary>
    LessOrEqual,
    /// <summary>&gt;</summary>
    Greater,
    /// <summary>&gt;=</summary>
    GreaterOrEqual,
    /// <summary>and, &amp; (three-valued)</summary>
    And,
    /// <summary>or, | (three-valued)</summary>
    Or,
}

/// <summary><c>left op right</c>.</summary>
internal sealed record BinarySyntax(BinaryOp Op, SyntaxNode Left, SyntaxNode Right, TextSpan OpSpan, TextSpan Span) : SyntaxNode(Span);

/// <summary>Operator spellings for messages.</summary>
internal static class OperatorText
{
    /// <summary>How the operator is written.</summary>
    public static string Of(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+", BinaryOp.Subtract => "-", BinaryOp.Multiply => "*", BinaryOp.Divide => "/",
        BinaryOp.FloorDivide => "//", BinaryOp.Modulo => "%", BinaryOp.Equal => "==", BinaryOp.NotEqual => "!=",
        BinaryOp.Less => "<", BinaryOp.LessOrEqual => "<=", BinaryOp.Greater => ">", BinaryOp.GreaterOrEqual => ">=",
        BinaryOp.And => "and", _ => "or",
    };
}
