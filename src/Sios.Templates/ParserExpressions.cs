using System.Globalization;

namespace Sios.Templates;

/// <summary>The expression half of the parser, lowest precedence first.</summary>
internal sealed partial class Parser
{
    private Expr ParseExpression() => ParseIfExpression();

    private Expr ParseIfExpression()
    {
        var value = ParseOr();
        if (!IsIdentifier("if"))
        {
            return value;
        }

        _current++;
        var test = ParseOr();
        if (!IsIdentifier("else"))
        {
            return new SelectExpr(value.Offset, value, test);
        }

        _current++;
        Enter();
        var otherwise = ParseIfExpression();
        Leave();
        return new TernaryExpr(value.Offset, test, value, otherwise);
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsIdentifier("or"))
        {
            var at = Peek()!.Offset;
            _current++;
            left = new BinaryExpr(at, "or", left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsIdentifier("and"))
        {
            var at = Peek()!.Offset;
            _current++;
            left = new BinaryExpr(at, "and", left, ParseNot());
        }

        return left;
    }

    private Expr ParseNot()
    {
        Expr? result = null;
        while (IsIdentifier("not"))
        {
            var at = Peek()!.Offset;
            _current++;
            Enter();
            result = new UnaryExpr(at, "not", ParseNot());
            Leave();
        }

        return result ?? ParseComparison();
    }

    // Membership shares comparison's level and everything chains to the left: 'a' in 'b' == c is ('a' in 'b') == c.
    private Expr ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            var at = Here;
            if (IsIdentifier("not") && IsIdentifier("in", 1))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in") || Is(TokenType.ComparisonBinaryOperator))
            {
                op = Peek()!.Value;
                _current++;
            }
            else
            {
                return left;
            }

            left = new BinaryExpr(at, op, left, ParseAdditive());
        }
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            var op = Peek()!;
            _current++;
            left = new BinaryExpr(op.Offset, op.Value, left, ParseMultiplicative());
        }

        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            var op = Peek()!;
            _current++;
            left = new BinaryExpr(op.Offset, op.Value, left, ParsePower());
        }

        return left;
    }

    // Jinja's '**' is left-associative: 2 ** 3 ** 2 is (2 ** 3) ** 2.
    private Expr ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            var op = Peek()!;
            _current++;
            left = new BinaryExpr(op.Offset, "**", left, ParseTest());
        }

        return left;
    }

    private Expr ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            var at = Peek()!.Offset;
            _current++;
            var negate = IsIdentifier("not");
            if (negate)
            {
                _current++;
            }

            if (ParsePrimary() is not Identifier test)
            {
                throw Error("Expected a test name after 'is'", at, "test");
            }

            operand = new TestExpr(at, operand, negate, test);
        }

        return operand;
    }

    private Expr ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            var at = Peek()!.Offset;
            _current++;
            var filter = ParsePrimary();
            if (filter is not Identifier)
            {
                throw Error("Expected a filter name after '|'", at, "filter");
            }

            if (Is(TokenType.OpenParen))
            {
                filter = ParseCall(filter);
            }

            operand = new FilterExpr(at, operand, filter);
        }

        return operand;
    }

    private Expr ParseUnarySign()
    {
        if (Peek() is { Type: TokenType.UnaryOperator or TokenType.AdditiveBinaryOperator, Value: "-" or "+" } sign)
        {
            _current++;
            Enter();
            var operand = ParseUnarySign();
            Leave();
            return new UnaryExpr(sign.Offset, sign.Value, operand);
        }

        var member = ParseMember(ParsePrimary());
        return Is(TokenType.OpenParen) ? ParseCall(member) : member;
    }

    private Expr ParseCall(Expr callee)
    {
        Enter();
        // A method call is placed at the method's name, anything else at the callee.
        var at = callee is MemberExpr { Computed: false } member ? member.Property.Offset : callee.Offset;
        Expr call = new CallExpr(at, callee, ParseArguments(parameters: false));
        call = ParseMember(call);
        if (Is(TokenType.OpenParen))
        {
            call = ParseCall(call);
        }

        Leave();
        return call;
    }

    // A call's arguments or a macro's parameters. Commas between them are optional, as in the reference.
    private List<Expr> ParseArguments(bool parameters)
    {
        var open = Expect(TokenType.OpenParen, "'('");
        Enter();
        var arguments = new List<Expr>();
        var names = new HashSet<string>();
        var sawKeyword = false;
        var sawSpread = false;
        while (!Is(TokenType.CloseParen))
        {
            if (Peek() is null)
            {
                throw Error("Expected ')' but the template ended", open.Offset, "call");
            }

            var at = Here;
            var keywordSpread = Is(TokenType.ExponentiationBinaryOperator);
            var spread = Peek() is { Type: TokenType.MultiplicativeBinaryOperator, Value: "*" };
            if (parameters && (keywordSpread || spread))
            {
                throw Error("Argument unpacking is not allowed in parameter declarations", at, "macro");
            }

            if (keywordSpread)
            {
                _current++;
                arguments.Add(new SpreadExpr(at, ParseExpression(), keywords: true));
                if (Is(TokenType.Comma))
                {
                    _current++;
                }

                if (!Is(TokenType.CloseParen))
                {
                    throw Error("'**' must be applied to the final argument", Here, "call");
                }

                break;
            }

            Expr argument;
            if (spread)
            {
                if (sawSpread)
                {
                    throw Error("Only one '*' argument unpacking is allowed", at, "call");
                }

                sawSpread = true;
                _current++;
                argument = new SpreadExpr(at, ParseExpression(), keywords: false);
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    _current++;
                    if (argument is not Identifier key)
                    {
                        throw Error(parameters ? "Expected an identifier for a parameter" : "Expected an identifier for a keyword argument", at, parameters ? "macro" : "call");
                    }

                    argument = new KeywordArgument(at, key, ParseExpression());
                }

                if (parameters)
                {
                    if (argument is not (Identifier or KeywordArgument))
                    {
                        throw Error("Expected an identifier for a parameter", at, "macro");
                    }

                    var name = MacroScan.ParameterName(argument);
                    if (!names.Add(name))
                    {
                        throw Error($"Duplicate parameter name: {name}", at, "macro");
                    }
                }

                if (argument is KeywordArgument)
                {
                    sawKeyword = true;
                }
                else if (sawKeyword)
                {
                    throw Error(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments", at, parameters ? "macro" : "call");
                }
                else if (sawSpread)
                {
                    throw Error("Positional arguments must not follow '*' argument unpacking", at, "call");
                }
            }

            arguments.Add(argument);
            if (Is(TokenType.Comma))
            {
                _current++;
            }
        }

        Expect(TokenType.CloseParen, "')'");
        Leave();
        return arguments;
    }

    private Expr ParseMember(Expr target)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            var op = Peek()!;
            _current++;
            if (op.Type == TokenType.OpenSquareBracket)
            {
                Enter();
                var property = ParseSubscript(op);
                Expect(TokenType.CloseSquareBracket, "']'");
                Leave();
                target = new MemberExpr(op.Offset, target, property, computed: true);
            }
            else
            {
                var property = ParsePrimary();
                if (property is not (Identifier or NumberLiteral { Value.Kind: ValueKind.Integer }))
                {
                    throw Error("Expected an identifier or integer after '.'", property.Offset);
                }

                target = new MemberExpr(op.Offset, target, property, computed: false);
            }
        }

        return target;
    }

    // What goes between '[' and ']': an index, or a slice [start:stop:step] with any part left out.
    private Expr ParseSubscript(Token open)
    {
        var parts = new List<Expr?>();
        var isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (Peek() is null)
            {
                throw Error("Expected ']' but the template ended", open.Offset);
            }

            if (Is(TokenType.Colon))
            {
                parts.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                parts.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }

        if (parts.Count == 0)
        {
            throw Error("Expected at least one argument for member/slice expression", open.Offset);
        }

        if (!isSlice)
        {
            return parts[0]!;
        }

        if (parts.Count > 3)
        {
            throw Error("Expected 0-3 arguments for slice expression", open.Offset);
        }

        return new SliceExpr(open.Offset, parts[0], parts.ElementAtOrDefault(1), parts.ElementAtOrDefault(2));
    }

    private Expr ParsePrimary()
    {
        var token = Peek() ?? throw Error("Unexpected end of template in an expression", _end);
        _current++;
        switch (token.Type)
        {
            case TokenType.NumericLiteral:
                var isFloat = token.Value.Contains('.', StringComparison.Ordinal);
                return new NumberLiteral(token.Offset, double.Parse(token.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture), !isFloat);
            case TokenType.StringLiteral:
                // Adjacent string literals are one string, as in Python.
                var text = token.Value;
                while (Is(TokenType.StringLiteral))
                {
                    text += Peek()!.Value;
                    _current++;
                }

                return new StringLiteral(token.Offset, text);
            case TokenType.Identifier:
                return new Identifier(token.Offset, token.Value);
            case TokenType.OpenParen:
                Enter();
                var inner = ParseExpressionSequence();
                Expect(TokenType.CloseParen, "')'");
                Leave();
                return inner;
            case TokenType.OpenSquareBracket:
                Enter();
                var items = new List<Expr>();
                while (!Is(TokenType.CloseSquareBracket))
                {
                    items.Add(ParseExpression());
                    if (Is(TokenType.Comma))
                    {
                        _current++;
                    }
                }

                _current++;
                Leave();
                return new ListLiteral(token.Offset, items, isTuple: false);
            case TokenType.OpenCurlyBracket:
                Enter();
                var entries = new List<(Expr, Expr)>();
                while (!Is(TokenType.CloseCurlyBracket))
                {
                    var key = ParseExpression();
                    Expect(TokenType.Colon, "':' between key and value in a dict literal");
                    entries.Add((key, ParseExpression()));
                    if (Is(TokenType.Comma))
                    {
                        _current++;
                    }
                }

                _current++;
                Leave();
                return new DictLiteral(token.Offset, entries);
            default:
                throw Error($"Unexpected {Describe(token)}", token.Offset);
        }
    }
}
