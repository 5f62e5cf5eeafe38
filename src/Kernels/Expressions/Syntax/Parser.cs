using Sluice.Kernels.Diagnostics;

namespace Sluice.Kernels.Expressions.Syntax;

/// <summary>
/// Recursive-descent parser with Python precedence:
/// or &lt; and &lt; not &lt; comparisons (chained as in Python) &lt; | &lt; &amp; &lt; + - &lt; * / // % &lt; unary - ~ &lt; postfix .name (args).
/// </summary>
internal static class ExpressionParser
{
    /// <summary>Parses <paramref name="text"/> into a syntax tree or the first syntax error.</summary>
    public static SyntaxNode? Parse(string text, out Diagnostic? error)
    {
        var tokens = new Lexer(text).Tokenize(out error);
        if (error is not null) return null;
        var p = new State(tokens);
        try
        {
            var node = p.ParseOr();
            if (p.Peek.Kind != TokenKind.End)
                throw new ParseError(new Diagnostic(ErrorCodes.UnexpectedToken,
                    $"unexpected '{p.Peek.Text}' after a complete expression; did you miss an operator or a comma?", p.Peek.Span));
            return node;
        }
        catch (ParseError e)
        {
            error = e.Diagnostic;
            return null;
        }
    }

    private sealed class ParseError(Diagnostic d) : Exception(d.Message)
    {
        public Diagnostic Diagnostic { get; } = d;
    }

    private sealed class State(List<Token> tokens)
    {
        private int _i;
        public Token Peek => tokens[_i];
        private Token Take() => tokens[_i++];

        private bool Accept(TokenKind k)
        {
            if (Peek.Kind != k) return false;
            _i++;
            return true;
        }

        private Token Expect(TokenKind k, string what)
        {
            if (Peek.Kind == k) return Take();
            throw Unexpected(what);
        }

        private ParseError Unexpected(string expected) => Peek.Kind == TokenKind.End
            ? new ParseError(new Diagnostic(ErrorCodes.UnexpectedEnd, $"expression ends early; expected {expected}", Peek.Span))
            : new ParseError(new Diagnostic(ErrorCodes.UnexpectedToken, $"unexpected '{Peek.Text}'; expected {expected}", Peek.Span));

        public SyntaxNode ParseOr()
        {
            var left = ParseAnd();
            while (Peek.Kind == TokenKind.Or)
            {
                var op = Take();
                var right = ParseAnd();
                left = new BinarySyntax(BinaryOp.Or, left, right, op.Span, TextSpan.Cover(left.Span, right.Span));
            }
            return left;
        }

        private SyntaxNode ParseAnd()
        {
            var left = ParseNot();
            while (Peek.Kind == TokenKind.And)
            {
                var op = Take();
                var right = ParseNot();
                left = new BinarySyntax(BinaryOp.And, left, right, op.Span, TextSpan.Cover(left.Span, right.Span));
            }
            return left;
        }

        private SyntaxNode ParseNot()
        {
            if (Peek.Kind != TokenKind.Not) return ParseComparison();
            var op = Take();
            var operand = ParseNot();
            return new UnarySyntax(UnaryOp.Not, operand, TextSpan.Cover(op.Span, operand.Span));
        }

        private static BinaryOp? ComparisonOp(TokenKind k) => k switch
        {
            TokenKind.EqEq => BinaryOp.Equal, TokenKind.NotEq => BinaryOp.NotEqual, TokenKind.Less => BinaryOp.Less,
            TokenKind.LessEq => BinaryOp.LessOrEqual, TokenKind.Greater => BinaryOp.Greater,
            TokenKind.GreaterEq => BinaryOp.GreaterOrEqual, _ => null,
        };

        private SyntaxNode ParseComparison()
        {
            var first = ParseBitOr();
            SyntaxNode? result = null;
            var left = first;
            // Python chains comparisons: a < b < c means (a < b) and (b < c).
            while (ComparisonOp(Peek.Kind) is { } op)
            {
                var opTok = Take();
                var right = ParseBitOr();
                var cmp = new BinarySyntax(op, left, right, opTok.Span, TextSpan.Cover(left.Span, right.Span));
                result = result is null ? cmp : new BinarySyntax(BinaryOp.And, result, cmp, opTok.Span, TextSpan.Cover(result.Span, cmp.Span));
                left = right;
            }
            return result ?? first;
        }

        private SyntaxNode ParseBitOr()
        {
            var left = ParseBitAnd();
            while (Peek.Kind == TokenKind.Pipe)
            {
                var op = Take();
                var right = ParseBitAnd();
                left = new BinarySyntax(BinaryOp.Or, left, right, op.Span, TextSpan.Cover(left.Span, right.Span));
            }
            return left;
        }

        private SyntaxNode ParseBitAnd()
        {
            var left = ParseAdditive();
            while (Peek.Kind == TokenKind.Amp)
            {
                var op = Take();
                var right = ParseAdditive();
                left = new BinarySyntax(BinaryOp.And, left, right, op.Span, TextSpan.Cover(left.Span, right.Span));
            }
            return left;
        }

        private SyntaxNode ParseAdditive()
        {
            var left = ParseMultiplicative();
            while (Peek.Kind is TokenKind.Plus or TokenKind.Minus)
            {
                var op = Take();
                var right = ParseMultiplicative();
                left = new BinarySyntax(op.Kind == TokenKind.Plus ? BinaryOp.Add : BinaryOp.Subtract, left, right, op.Span,
                    TextSpan.Cover(left.Span, right.Span));
            }
            return left;
        }

        private SyntaxNode ParseMultiplicative()
        {
            var left = ParseUnary();
            while (Peek.Kind is TokenKind.Star or TokenKind.Slash or TokenKind.SlashSlash or TokenKind.Percent)
            {
                var op = Take();
                var right = ParseUnary();
                var bop = op.Kind switch
                {
                    TokenKind.Star => BinaryOp.Multiply, TokenKind.Slash => BinaryOp.Divide,
                    TokenKind.SlashSlash => BinaryOp.FloorDivide, _ => BinaryOp.Modulo,
                };
                left = new BinarySyntax(bop, left, right, op.Span, TextSpan.Cover(left.Span, right.Span));
            }
            return left;
        }

        private SyntaxNode ParseUnary()
        {
            if (Peek.Kind is TokenKind.Minus or TokenKind.Tilde)
            {
                var op = Take();
                var operand = ParseUnary();
                // Fold -<literal> so that the minimum int64 can be written.
                if (op.Kind == TokenKind.Minus && operand is LiteralSyntax { Kind: LiteralKind.Float } f)
                    return f with { Value = -(double)f.Value!, Span = TextSpan.Cover(op.Span, f.Span) };
                return new UnarySyntax(op.Kind == TokenKind.Minus ? UnaryOp.Negate : UnaryOp.Not, operand, TextSpan.Cover(op.Span, operand.Span));
            }
            if (Peek.Kind == TokenKind.Plus)
            {
                Take();
                return ParseUnary();
            }
            return ParsePostfix();
        }

        private SyntaxNode ParsePostfix()
        {
            var node = ParsePrimary();
            while (true)
            {
                if (Accept(TokenKind.Dot))
                {
                    var name = Peek.Kind is TokenKind.Identifier or TokenKind.True or TokenKind.False or TokenKind.None or TokenKind.And or TokenKind.Or or TokenKind.Not
                        ? Take() : throw Unexpected("a field name after '.'");
                    node = new MemberSyntax(node, name.Text, name.Span, TextSpan.Cover(node.Span, name.Span));
                }
                else if (Peek.Kind == TokenKind.LParen)
                {
                    Take();
                    var args = new List<ArgumentSyntax>();
                    if (Peek.Kind != TokenKind.RParen)
                    {
                        do
                        {
                            if (Peek.Kind == TokenKind.RParen) break; // trailing comma
                            string? argName = null;
                            if (Peek.Kind == TokenKind.Identifier && tokens[_i + 1].Kind == TokenKind.Assign)
                            {
                                argName = Take().Text;
                                Take();
                            }
                            args.Add(new ArgumentSyntax(argName, ParseOr()));
                        } while (Accept(TokenKind.Comma));
                    }
                    var close = Expect(TokenKind.RParen, "',' or ')' in the argument list");
                    node = new CallSyntax(node, args, TextSpan.Cover(node.Span, close.Span));
                }
                else return node;
            }
        }

        private SyntaxNode ParsePrimary()
        {
            var t = Peek;
            switch (t.Kind)
            {
                case TokenKind.Identifier:
                    Take();
                    return t.Text == "_" ? new RootSyntax(t.Span) : new NameSyntax(t.Text, t.Span);
                case TokenKind.Int: Take(); return new LiteralSyntax(LiteralKind.Int, t.Value, t.Span);
                case TokenKind.Float: Take(); return new LiteralSyntax(LiteralKind.Float, t.Value, t.Span);
                case TokenKind.String: Take(); return new LiteralSyntax(LiteralKind.String, t.Value, t.Span);
                case TokenKind.Bytes: Take(); return new LiteralSyntax(LiteralKind.Bytes, t.Value, t.Span);
                case TokenKind.True: Take(); return new LiteralSyntax(LiteralKind.Bool, true, t.Span);
                case TokenKind.False: Take(); return new LiteralSyntax(LiteralKind.Bool, false, t.Span);
                case TokenKind.None: Take(); return new LiteralSyntax(LiteralKind.None, null, t.Span);
                case TokenKind.LParen:
                    Take();
                    var inner = ParseOr();
                    Expect(TokenKind.RParen, "')'");
                    return inner;
                default:
                    throw Unexpected("an expression (_, a literal, F.name(...) or '(')");
            }
        }
    }
}
