using System.Globalization;
using System.Text;

namespace Sios.Templates;

internal enum TokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

/// <summary>A token; <see cref="Offset"/> is where it starts in the original source.</summary>
internal sealed record Token(TokenType Type, string Value, int Offset);

/// <summary>
/// The reference's tokenizer, run over the preprocessed text (trim_blocks and lstrip_blocks on, as the reference's
/// Template sets them). Text is whatever lies between tags; '-' on a tag trims the neighbouring text.
/// </summary>
internal sealed class Lexer
{
    // Longest first where one is a prefix of another, as the reference orders its table.
    private static readonly (string Sequence, TokenType Type)[] Table =
    [
        ("{%", TokenType.OpenStatement), ("%}", TokenType.CloseStatement), ("{{", TokenType.OpenExpression),
        ("}}", TokenType.CloseExpression), ("(", TokenType.OpenParen), (")", TokenType.CloseParen),
        ("{", TokenType.OpenCurlyBracket), ("}", TokenType.CloseCurlyBracket), ("[", TokenType.OpenSquareBracket),
        ("]", TokenType.CloseSquareBracket), (",", TokenType.Comma), (".", TokenType.Dot), (":", TokenType.Colon),
        ("|", TokenType.Pipe), ("<=", TokenType.ComparisonBinaryOperator), (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator), ("!=", TokenType.ComparisonBinaryOperator),
        ("<", TokenType.ComparisonBinaryOperator), (">", TokenType.ComparisonBinaryOperator),
        ("+", TokenType.AdditiveBinaryOperator), ("-", TokenType.AdditiveBinaryOperator), ("~", TokenType.AdditiveBinaryOperator),
        ("**", TokenType.ExponentiationBinaryOperator), ("*", TokenType.MultiplicativeBinaryOperator),
        ("//", TokenType.MultiplicativeBinaryOperator), ("/", TokenType.MultiplicativeBinaryOperator),
        ("%", TokenType.MultiplicativeBinaryOperator), ("=", TokenType.Equals),
    ];

    private readonly string _src;
    private readonly int[] _origin;
    private readonly SourceMap _map;
    private readonly List<Token> _tokens = [];
    private readonly Dictionary<string, string> _names = new[] { "loop", "caller", "kwargs", "varargs", "namespace" }.ToDictionary(n => n);
    private int _pos;
    private int _curlyDepth;

    private Lexer(string src, int[] origin, SourceMap map)
    {
        _src = src;
        _origin = origin;
        _map = map;
    }

    public static List<Token> Tokenize(string source, SourceMap map)
    {
        var (text, origin) = Preprocessor.Run(source);
        var lexer = new Lexer(text, origin, map);
        lexer.Run();
        return lexer._tokens;
    }

    private char At(int i) => i < _src.Length ? _src[i] : '\0';

    private bool Past(int i) => i >= _src.Length;

    private int OriginOf(int i) => _origin.Length == 0 ? 0 : _origin[Math.Min(i, _origin.Length - 1)] + (i >= _origin.Length ? 1 : 0);

    private ChatTemplateException Error(string message, int at, string? construct = null)
    {
        var (line, column) = _map.LineColumn(OriginOf(at));
        return new ChatTemplateException($"{message} at {line}:{column}", construct ?? "syntax", line, column);
    }

    private void Push(TokenType type, string value, int start) => _tokens.Add(new Token(type, value, OriginOf(start)));

    private TokenType? LastType => _tokens.Count == 0 ? null : _tokens[^1].Type;

    private bool Has(string s) => _pos + s.Length <= _src.Length && string.CompareOrdinal(_src, _pos, s, 0, s.Length) == 0;

    private void Run()
    {
        while (_pos < _src.Length)
        {
            if (LastType is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment)
            {
                var start = _pos;
                while (_pos < _src.Length && !(_src[_pos] == '{' && At(_pos + 1) is '%' or '{' or '#'))
                {
                    _pos++;
                }

                if (_pos > start)
                {
                    Push(TokenType.Text, _src[start.._pos], start);
                    continue;
                }
            }

            if (Has("{#"))
            {
                Comment();
                continue;
            }

            if (Has("{%-") || Has("{{-"))
            {
                StripTrailingWhitespace();
                var statement = _src[_pos + 1] == '%';
                Push(statement ? TokenType.OpenStatement : TokenType.OpenExpression, statement ? "{%" : "{{", _pos);
                _curlyDepth = statement ? _curlyDepth : 0;
                _pos += 3;
                continue;
            }

            ConsumeWhile(JsText.IsWhitespace);
            if (Has("-%}") || Has("-}}"))
            {
                var statement = _src[_pos + 1] == '%';
                Push(statement ? TokenType.CloseStatement : TokenType.CloseExpression, statement ? "%}" : "}}", _pos);
                _pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            if (!Token())
            {
                throw Error($"Unexpected character '{At(_pos)}'", _pos);
            }
        }
    }

    private bool Token()
    {
        var start = _pos;
        var c = At(_pos);
        if (c is '-' or '+' && SignToken(c, start))
        {
            return true;
        }

        foreach (var (sequence, type) in Table)
        {
            // Inside a dict literal "}}" closes braces, not the expression.
            if ((sequence == "}}" && _curlyDepth > 0) || !Has(sequence))
            {
                continue;
            }

            Push(type, sequence, start);
            _curlyDepth = type switch
            {
                TokenType.OpenExpression => 0,
                TokenType.OpenCurlyBracket => _curlyDepth + 1,
                TokenType.CloseCurlyBracket => _curlyDepth - 1,
                _ => _curlyDepth,
            };
            _pos += sequence.Length;
            return true;
        }

        if (c is '\'' or '"')
        {
            _pos++;
            var text = ConsumeWhile(ch => ch != c);
            Push(TokenType.StringLiteral, text, start);
            _pos++;
            return true;
        }

        if (char.IsAsciiDigit(c))
        {
            var number = ConsumeWhile(char.IsAsciiDigit);
            if (LastType != TokenType.Dot && At(_pos) == '.' && char.IsAsciiDigit(At(_pos + 1)))
            {
                _pos++;
                number += "." + ConsumeWhile(char.IsAsciiDigit);
            }

            Push(TokenType.NumericLiteral, number, start);
            return true;
        }

        if (JsText.IsWord(c))
        {
            // One instance per name (the interpreter's own names included), so scopes mostly match by reference.
            var word = ConsumeWhile(JsText.IsWord);
            Push(TokenType.Identifier, _names.TryGetValue(word, out var known) ? known : _names[word] = word, start);
            return true;
        }

        return false;
    }

    // After a value ('x - 1', '(1) - 1') a sign is an operator; elsewhere it is unary, and a number right after it
    // becomes one signed literal ('[-1]').
    private bool SignToken(char c, int start)
    {
        if (LastType is null or TokenType.Text)
        {
            throw Error($"Unexpected character '{c}'", start);
        }

        if (LastType is TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral or TokenType.CloseParen
            or TokenType.CloseSquareBracket)
        {
            return false;
        }

        _pos++;
        var number = ConsumeWhile(char.IsAsciiDigit);
        if (number.Length > 0 && At(_pos) == '.' && char.IsAsciiDigit(At(_pos + 1)))
        {
            _pos++;
            number += "." + ConsumeWhile(char.IsAsciiDigit);
        }

        Push(number.Length > 0 ? TokenType.NumericLiteral : TokenType.UnaryOperator, c + number, start);
        return true;
    }

    private void Comment()
    {
        var start = _pos;
        _pos += 2;
        var stripBefore = At(_pos) == '-';
        if (stripBefore)
        {
            _pos++;
        }

        var body = new StringBuilder();
        while (At(_pos) != '#' || At(_pos + 1) != '}')
        {
            if (_pos + 2 >= _src.Length)
            {
                throw Error("Missing end of comment tag", start, "comment");
            }

            body.Append(_src[_pos++]);
        }

        var stripAfter = body.Length > 0 && body[^1] == '-';
        if (stripBefore)
        {
            StripTrailingWhitespace();
        }

        Push(TokenType.Comment, stripAfter ? body.ToString(0, body.Length - 1) : body.ToString(), start);
        _pos += 2;
        if (stripAfter)
        {
            SkipLeadingWhitespace();
        }
    }

    private void StripTrailingWhitespace()
    {
        if (_tokens.Count > 0 && _tokens[^1].Type == TokenType.Text)
        {
            var trimmed = JsText.TrimEnd(_tokens[^1].Value);
            if (trimmed.Length == 0)
            {
                _tokens.RemoveAt(_tokens.Count - 1);
            }
            else
            {
                _tokens[^1] = _tokens[^1] with { Value = trimmed };
            }
        }
    }

    private void SkipLeadingWhitespace()
    {
        while (_pos < _src.Length && JsText.IsWhitespace(_src[_pos]))
        {
            _pos++;
        }
    }

    // The reference's consumeWhile: backslash escapes apply to whatever it reads, and reaching the end of the input
    // right after a character is an error (an unterminated string, or a tag cut off).
    private string ConsumeWhile(Func<char, bool> predicate)
    {
        var result = new StringBuilder();
        while (Predicate(predicate))
        {
            if (At(_pos) == '\\')
            {
                _pos++;
                if (Past(_pos))
                {
                    throw Error("Unexpected end of input", _pos);
                }

                var escaped = _src[_pos++];
                if (escaped is 'x' or 'u')
                {
                    var length = escaped == 'x' ? 2 : 4;
                    var hex = _src.Substring(_pos, Math.Min(length, _src.Length - _pos));
                    if (hex.Length != length || !hex.All(char.IsAsciiHexDigit))
                    {
                        throw Error($"Invalid hexadecimal escape sequence: \\{escaped}{hex}", _pos);
                    }

                    result.Append((char)int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += length;
                    continue;
                }

                result.Append(escaped switch
                {
                    'n' => "\n", 't' => "\t", 'r' => "\r", 'b' => "\b", 'f' => "\f", 'v' => "\v",
                    '\'' or '"' or '\\' => escaped.ToString(),
                    _ => throw Error($"Unexpected escaped character: {escaped}", _pos - 1),
                });
                continue;
            }

            result.Append(At(_pos));
            _pos++;
            if (_pos >= _src.Length)
            {
                throw Error("Unexpected end of input", _pos);
            }
        }

        return result.ToString();
    }

    // Past the end the reference tests the character `undefined`, which only "is not the quote" accepts (the word
    // predicate would too, "undefined" being letters, but a word never reaches the end without the error above).
    private bool Predicate(Func<char, bool> predicate) => Past(_pos) ? predicate('\uFFFF') : predicate(_src[_pos]);
}
