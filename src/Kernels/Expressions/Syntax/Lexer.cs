using System.Globalization;
using System.Text;
using Sluice.Kernels.Diagnostics;

namespace Sluice.Kernels.Expressions.Syntax;

internal enum TokenKind
{
    End, Identifier, Int, Float, String, Bytes,
    LParen, RParen, Comma, Dot, Assign,
    Plus, Minus, Star, Slash, SlashSlash, Percent,
    EqEq, NotEq, Less, LessEq, Greater, GreaterEq,
    Amp, Pipe, Tilde,
    And, Or, Not, True, False, None,
}

internal readonly record struct Token(TokenKind Kind, TextSpan Span, string Text, object? Value = null);

/// <summary>Turns expression text into tokens; the first lexical error stops it.</summary>
internal sealed class Lexer(string text)
{
    private int _pos;

    public List<Token> Tokenize(out Diagnostic? error)
    {
        var tokens = new List<Token>();
        error = null;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= text.Length) { tokens.Add(new Token(TokenKind.End, new TextSpan(text.Length, 0), "")); return tokens; }
            var t = Next(out error);
            if (error is not null) return tokens;
            tokens.Add(t);
        }
    }

    private void SkipWhitespace()
    {
        while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
    }

    private Token Next(out Diagnostic? error)
    {
        error = null;
        int start = _pos;
        char c = text[_pos];
        if ((c is 'b' or 'B') && _pos + 1 < text.Length && text[_pos + 1] is '"' or '\'')
        {
            _pos++;
            return LexString(start, bytes: true, out error);
        }
        if (char.IsLetter(c) || c == '_')
        {
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            var word = text[start.._pos];
            var kind = word switch
            {
                "and" => TokenKind.And, "or" => TokenKind.Or, "not" => TokenKind.Not,
                "True" => TokenKind.True, "False" => TokenKind.False, "None" => TokenKind.None,
                _ => TokenKind.Identifier,
            };
            return new Token(kind, Span(start), word);
        }
        if (char.IsAsciiDigit(c) || (c == '.' && _pos + 1 < text.Length && char.IsAsciiDigit(text[_pos + 1])))
            return LexNumber(start, out error);
        if (c is '"' or '\'') return LexString(start, bytes: false, out error);

        _pos++;
        TokenKind k;
        switch (c)
        {
            case '(': k = TokenKind.LParen; break;
            case ')': k = TokenKind.RParen; break;
            case ',': k = TokenKind.Comma; break;
            case '.': k = TokenKind.Dot; break;
            case '+': k = TokenKind.Plus; break;
            case '-': k = TokenKind.Minus; break;
            case '*': k = TokenKind.Star; break;
            case '%': k = TokenKind.Percent; break;
            case '&': k = TokenKind.Amp; break;
            case '|': k = TokenKind.Pipe; break;
            case '~': k = TokenKind.Tilde; break;
            case '/': k = Eat('/') ? TokenKind.SlashSlash : TokenKind.Slash; break;
            case '=': k = Eat('=') ? TokenKind.EqEq : TokenKind.Assign; break;
            case '<': k = Eat('=') ? TokenKind.LessEq : TokenKind.Less; break;
            case '>': k = Eat('=') ? TokenKind.GreaterEq : TokenKind.Greater; break;
            case '!':
                if (Eat('=')) { k = TokenKind.NotEq; break; }
                goto default;
            default:
                error = new Diagnostic(ErrorCodes.UnexpectedCharacter,
                    $"unexpected character '{c}'; expressions use _, literals, operators and F.name(...) calls", new TextSpan(start, 1));
                return default;
        }
        return new Token(k, Span(start), text[start.._pos]);
    }

    private bool Eat(char c)
    {
        if (_pos < text.Length && text[_pos] == c) { _pos++; return true; }
        return false;
    }

    private TextSpan Span(int start) => new(start, _pos - start);

    private Token LexNumber(int start, out Diagnostic? error)
    {
        error = null;
        bool isFloat = false;
        ReadDigits();
        if (_pos < text.Length && text[_pos] == '.' && !(_pos + 1 < text.Length && char.IsLetter(text[_pos + 1])))
        {
            isFloat = true;
            _pos++;
            ReadDigits();
        }
        if (_pos < text.Length && text[_pos] is 'e' or 'E')
        {
            isFloat = true;
            _pos++;
            if (_pos < text.Length && text[_pos] is '+' or '-') _pos++;
            if (_pos >= text.Length || !char.IsAsciiDigit(text[_pos]))
            {
                error = new Diagnostic(ErrorCodes.InvalidNumber, "exponent has no digits; write e.g. 1e6", Span(start));
                return default;
            }
            ReadDigits();
        }
        if (_pos < text.Length && (char.IsLetter(text[_pos]) || text[_pos] == '_'))
        {
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            error = new Diagnostic(ErrorCodes.InvalidNumber, $"'{text[start.._pos]}' is not a number", Span(start));
            return default;
        }
        var raw = text[start.._pos];
        if (raw.Contains("__", StringComparison.Ordinal) || raw.EndsWith('_') || raw.Contains("_.", StringComparison.Ordinal) ||
            raw.Contains("._", StringComparison.Ordinal) || raw.Contains("_e", StringComparison.OrdinalIgnoreCase) ||
            raw.Contains("e_", StringComparison.OrdinalIgnoreCase))
        {
            error = new Diagnostic(ErrorCodes.InvalidNumber, $"'{raw}': '_' may only stand between digits, as in 1_000_000", Span(start));
            return default;
        }
        var clean = raw.Replace("_", "", StringComparison.Ordinal);
        if (isFloat)
            return new Token(TokenKind.Float, Span(start), raw, double.Parse(clean, NumberStyles.Float, CultureInfo.InvariantCulture));
        if (!long.TryParse(clean, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
        {
            error = new Diagnostic(ErrorCodes.IntegerOutOfRange, $"integer literal {raw} does not fit in int64; write it as a float (e.g. {clean}.0)", Span(start));
            return default;
        }
        return new Token(TokenKind.Int, Span(start), raw, v);
    }

    private void ReadDigits()
    {
        while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] == '_')) _pos++;
    }

    private Token LexString(int start, bool bytes, out Diagnostic? error)
    {
        error = null;
        char quote = text[_pos++];
        var sb = new StringBuilder();
        var raw = bytes ? new List<byte>() : null;
        Span<byte> buf = stackalloc byte[4];
        while (true)
        {
            if (_pos >= text.Length || text[_pos] == '\n')
            {
                error = new Diagnostic(ErrorCodes.UnterminatedString, $"string literal has no closing {quote}", new TextSpan(start, _pos - start));
                return default;
            }
            char c = text[_pos++];
            if (c == quote) break;
            if (c != '\\')
            {
                if (raw is not null)
                {
                    int n = Encoding.UTF8.GetBytes([c], buf);
                    for (int i = 0; i < n; i++) raw.Add(buf[i]);
                }
                else sb.Append(c);
                continue;
            }
            int escStart = _pos - 1;
            if (_pos >= text.Length) continue;
            char e = text[_pos++];
            int? code = e switch
            {
                'n' => '\n', 't' => '\t', 'r' => '\r', '0' => 0, '\\' => '\\', '\'' => '\'', '"' => '"',
                'x' => ReadHex(2), 'u' when !bytes => ReadHex(4), 'U' when !bytes => ReadHex(8),
                _ => null,
            };
            if (code is null or < 0 || code > 0x10FFFF)
            {
                error = new Diagnostic(ErrorCodes.InvalidEscape,
                    $"invalid escape '{text[escStart..Math.Min(_pos, text.Length)]}'; use \\n \\t \\r \\0 \\\\ \\' \\\" \\xNN{(bytes ? "" : " \\uNNNN")}",
                    new TextSpan(escStart, _pos - escStart));
                return default;
            }
            if (raw is not null) raw.Add((byte)code.Value);
            else sb.Append(char.ConvertFromUtf32(code.Value));
        }
        return bytes
            ? new Token(TokenKind.Bytes, Span(start), text[start.._pos], raw!.ToArray())
            : new Token(TokenKind.String, Span(start), text[start.._pos], sb.ToString());
    }

    private int ReadHex(int digits)
    {
        if (_pos + digits > text.Length) { _pos = text.Length; return -1; }
        var s = text.AsSpan(_pos, digits);
        _pos += digits;
        return int.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v : -1;
    }
}
