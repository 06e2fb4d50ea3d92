using System.Runtime.CompilerServices;

namespace Sios.Templates;

/// <summary>
/// The reference's recursive-descent parser, precedence for precedence (tests bind tighter than '*', filters tighter
/// than a unary sign), with its leniencies (arguments need no commas) and its refusals (no empty tuple). Nesting is
/// capped so a hostile template fails with an exception, never a stack overflow.
/// </summary>
internal sealed partial class Parser
{
    private const int MaxNesting = 256;

    private readonly List<Token> _tokens;
    private readonly SourceMap _map;
    private readonly int _end;
    private int _current;
    private int _depth;

    private Parser(List<Token> tokens, SourceMap map, int end)
    {
        _tokens = tokens;
        _map = map;
        _end = end;
    }

    public static List<Node> Parse(string source)
    {
        var map = new SourceMap(source);
        var parser = new Parser(Lexer.Tokenize(source, map), map, source.Length);
        var program = new List<Node>();
        while (parser._current < parser._tokens.Count)
        {
            program.Add(parser.ParseAny());
        }

        return program;
    }

    private Token? Peek(int ahead = 0) => _current + ahead < _tokens.Count ? _tokens[_current + ahead] : null;

    private int Here => Peek()?.Offset ?? _end;

    private bool Is(TokenType type) => Peek()?.Type == type;

    private bool IsIdentifier(string name, int ahead = 0) => Peek(ahead) is { Type: TokenType.Identifier } t && t.Value == name;

    private bool IsStatement(params string[] names) =>
        Peek() is { Type: TokenType.OpenStatement } && Peek(1) is { Type: TokenType.Identifier } t && names.Contains(t.Value);

    private ChatTemplateException Error(string message, int offset, string construct = "syntax")
    {
        var (line, column) = _map.LineColumn(offset);
        return new ChatTemplateException($"{message} at {line}:{column}", construct, line, column);
    }

    private Token Expect(TokenType type, string what)
    {
        var token = Peek() ?? throw Error($"Expected {what} but the template ended", _end);
        if (token.Type != type)
        {
            throw Error($"Expected {what}, got {Describe(token)}", token.Offset);
        }

        _current++;
        return token;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            throw Error($"Expected '{name}'", Here);
        }

        _current++;
    }

    private void ExpectEnd(string name)
    {
        Expect(TokenType.OpenStatement, "'{%'");
        ExpectIdentifier(name);
        Expect(TokenType.CloseStatement, "'%}'");
    }

    private static string Describe(Token token) => token.Type switch
    {
        TokenType.Text => "text",
        TokenType.Identifier => $"'{token.Value}'",
        _ => $"{token.Type} '{token.Value}'",
    };

    // Guards each level of nesting (statement bodies, brackets, unary chains) against hostile depth.
    private void Enter()
    {
        if (++_depth > MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw Error($"The template nests deeper than {MaxNesting} levels", Here, "nesting");
        }
    }

    private void Leave() => _depth--;

    private List<Node> ParseBody(Token opener, string statement, params string[] terminators)
    {
        var body = new List<Node>();
        while (!IsStatement(terminators))
        {
            if (Peek() is null)
            {
                throw Error($"'{statement}' is not closed: expected {{% {terminators[^1]} %}}", opener.Offset, $"statement '{statement}'");
            }

            body.Add(ParseAny());
        }

        return body;
    }

    private Node ParseAny()
    {
        var token = Peek()!;
        switch (token.Type)
        {
            case TokenType.Comment:
                _current++;
                return new CommentNode(token.Offset);
            case TokenType.Text:
                _current++;
                return new StringLiteral(token.Offset, token.Value);
            case TokenType.OpenStatement:
                Enter();
                var statement = ParseStatement();
                Leave();
                return statement;
            case TokenType.OpenExpression:
                _current++;
                var expression = ParseExpression();
                Expect(TokenType.CloseExpression, "'}}'");
                return expression;
            default:
                throw Error($"Unexpected {Describe(token)}", token.Offset);
        }
    }

    private Node ParseStatement()
    {
        var open = Expect(TokenType.OpenStatement, "'{%'");
        var nameToken = Peek();
        if (nameToken is not { Type: TokenType.Identifier })
        {
            throw Error(nameToken is null ? "Unknown statement: the template ended" : $"Unknown statement, got {Describe(nameToken)}", Here, "statement");
        }

        _current++;
        switch (nameToken.Value)
        {
            case "set":
                return ParseSet(open);
            case "if":
                var branch = ParseIf(open);
                ExpectEnd("endif");
                return branch;
            case "macro":
                var macro = ParseMacro(open);
                ExpectEnd("endmacro");
                return macro;
            case "for":
                var loop = ParseFor(open);
                ExpectEnd("endfor");
                return loop;
            case "call":
                return ParseCallBlock(open);
            case "break":
                Expect(TokenType.CloseStatement, "'%}'");
                return new BreakNode(open.Offset);
            case "continue":
                Expect(TokenType.CloseStatement, "'%}'");
                return new ContinueNode(open.Offset);
            case "filter":
                return ParseFilterBlock(open);
            default:
                throw Error($"Unknown statement '{nameToken.Value}'", nameToken.Offset, $"statement '{nameToken.Value}'");
        }
    }

    private SetNode ParseSet(Token open)
    {
        var target = ParseExpressionSequence();
        if (Is(TokenType.Equals))
        {
            _current++;
            var value = ParseExpressionSequence();
            Expect(TokenType.CloseStatement, "'%}'");
            return new SetNode(open.Offset, target, value, []);
        }

        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBody(open, "set", "endset");
        Expect(TokenType.OpenStatement, "'{%'");
        ExpectIdentifier("endset");
        Expect(TokenType.CloseStatement, "'%}'");
        return new SetNode(open.Offset, target, null, body);
    }

    // elif becomes an if nested in the alternate branch; only the outermost consumes endif.
    private IfNode ParseIf(Token open)
    {
        var test = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBody(open, "if", "elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            var elif = Peek()!;
            _current += 2;
            Enter();
            alternate.Add(ParseIf(elif));
            Leave();
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            alternate = ParseBody(open, "if", "endif");
        }

        return new IfNode(open.Offset, test, body, alternate);
    }

    private MacroNode ParseMacro(Token open)
    {
        if (ParsePrimary() is not Identifier name)
        {
            throw Error("Expected an identifier after 'macro'", open.Offset, "statement 'macro'");
        }

        var parameters = ParseArguments(parameters: true);
        Expect(TokenType.CloseStatement, "'%}'");
        return new MacroNode(open.Offset, name, new Callable(parameters, ParseBody(open, "macro", "endmacro")));
    }

    private ForNode ParseFor(Token open)
    {
        var target = ParseExpressionSequence(primary: true);
        if (target is not (Identifier or ListLiteral { IsTuple: true }))
        {
            throw Error("Expected an identifier or tuple as the loop variable", target.Offset, "statement 'for'");
        }

        if (!IsIdentifier("in"))
        {
            throw Error("Expected 'in' after the loop variable", Here, "statement 'for'");
        }

        _current++;
        var iterable = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBody(open, "for", "endfor", "else");
        var otherwise = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            otherwise = ParseBody(open, "for", "endfor");
        }

        return new ForNode(open.Offset, target, iterable, body, otherwise);
    }

    private CallBlockNode ParseCallBlock(Token open)
    {
        var callerParameters = Is(TokenType.OpenParen) ? ParseArguments(parameters: true) : null;
        var callee = ParsePrimary();
        if (callee is not Identifier)
        {
            throw Error("Expected an identifier after 'call'", callee.Offset, "statement 'call'");
        }

        var call = new CallExpr(callee.Offset, callee, ParseArguments(parameters: false));
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBody(open, "call", "endcall");
        ExpectEnd("endcall");
        return new CallBlockNode(open.Offset, call, callerParameters, new Callable(callerParameters ?? [], body));
    }

    private FilterBlockNode ParseFilterBlock(Token open)
    {
        var filter = ParsePrimary();
        if (filter is Identifier && Is(TokenType.OpenParen))
        {
            filter = ParseCall(filter);
        }

        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBody(open, "filter", "endfilter");
        ExpectEnd("endfilter");
        return new FilterBlockNode(open.Offset, filter, body);
    }

    private Expr ParseExpressionSequence(bool primary = false)
    {
        var first = primary ? ParsePrimary() : ParseExpression();
        if (!Is(TokenType.Comma))
        {
            return first;
        }

        var items = new List<Expr> { first };
        while (Is(TokenType.Comma))
        {
            _current++;
            items.Add(primary ? ParsePrimary() : ParseExpression());
        }

        return new ListLiteral(first.Offset, items, isTuple: true);
    }
}
