namespace Sios.Templates;

/// <summary>Binary operators with the reference's rules: which type pairs each operator accepts, and JavaScript arithmetic.</summary>
internal sealed partial class Interpreter
{
    private Value Binary(BinaryExpr node, Scope scope)
    {
        var left = Eval(node.Left, scope);
        switch (node.Op)
        {
            case "and":
                return Values.Truthy(left) ? Eval(node.Right, scope) : left;
            case "or":
                return Values.Truthy(left) ? left : Eval(node.Right, scope);
        }

        var right = Eval(node.Right, scope);
        var op = node.Op;
        _budget.ChargeSize(left);
        _budget.ChargeSize(right);
        switch (op)
        {
            case "==":
                return BooleanValue.Of(Values.LooseEquals(left, right, _budget));
            case "!=":
                return BooleanValue.Of(!Values.LooseEquals(left, right, _budget));
        }

        if (left is VoidValue || right is VoidValue)
        {
            throw Values.VoidUse();
        }

        if (left is UndefinedValue || right is UndefinedValue)
        {
            // `anything in undefined` is false and `not in` true; anything else with undefined fails.
            return right is UndefinedValue && op is "in" or "not in"
                ? BooleanValue.Of(op == "not in")
                : throw new RenderError($"Cannot perform operation {op} on undefined values", $"operator '{op}'");
        }

        if (left is NullValue || right is NullValue)
        {
            throw new RenderError($"Cannot perform operation {op} on null values", $"operator '{op}'");
        }

        if (op == "~")
        {
            return Concatenate(left, right);
        }

        if (op == "**" && NumericLike(left) is { } a && NumericLike(right) is { } b)
        {
            return Power(left, right, a, b);
        }

        if (left is NumberValue x && right is NumberValue y)
        {
            if (Arithmetic(op, x, y) is { } result)
            {
                return result;
            }
        }
        else if (left is ArrayValue first && right is ArrayValue second)
        {
            if (op == "+")
            {
                CheckLength(first.Items.Count + second.Items.Count);
                return new ArrayValue([.. first.Items, .. second.Items]);
            }
        }
        else if (right is ArrayValue list && op is "in" or "not in")
        {
            var member = list.Items.Any(item => Values.StrictEquals(item, left));
            return BooleanValue.Of(member == (op == "in"));
        }

        if (op == "+" && (left is StringValue || right is StringValue))
        {
            return Concatenate(left, right);
        }

        if (left is StringValue needle && op is "in" or "not in")
        {
            if (right is StringValue haystack)
            {
                _budget.ChargeSearch(haystack.Text.Length, needle.Text.Length);
                return BooleanValue.Of(haystack.Text.Contains(needle.Text, StringComparison.Ordinal) == (op == "in"));
            }

            if (right is ObjectValue dict)
            {
                return BooleanValue.Of(dict.Entries.ContainsKey(needle.Text) == (op == "in"));
            }
        }

        throw new RenderError($"Unknown operator \"{op}\" between {left.TypeName} and {right.TypeName}", $"operator '{op}'");
    }

    private StringValue Concatenate(Value left, Value right)
    {
        var (a, b) = (Values.Raw(left, _budget), Values.Raw(right, _budget));
        CheckLength(a.Length + b.Length);
        _budget.ChargeText(a.Length + b.Length);
        return new StringValue(a + b);
    }

    private static double? NumericLike(Value value) => value switch
    {
        NumberValue n => n.Number,
        BooleanValue b => b.Flag ? 1 : 0,
        _ => null,
    };

    private static NumberValue Power(Value left, Value right, double a, double b)
    {
        if (a == 0 && b < 0)
        {
            throw new RenderError("0.0 cannot be raised to a negative power", "operator '**'");
        }

        // JavaScript's ** differs from Math.Pow here: 1 ** Infinity and x ** NaN are NaN.
        var result = double.IsNaN(b) || (Math.Abs(a) == 1 && double.IsInfinity(b)) ? double.NaN : Math.Pow(a, b);
        if (!double.IsFinite(result))
        {
            throw new RenderError("Exponentiation result is not a finite real number", "operator '**'");
        }

        return NumberValue.Of(result, !(left.Kind == ValueKind.Float || right.Kind == ValueKind.Float || b < 0));
    }

    private static Value? Arithmetic(string op, NumberValue x, NumberValue y)
    {
        var (a, b) = (x.Number, y.Number);
        var integer = x.Kind == ValueKind.Integer && y.Kind == ValueKind.Integer;
        return op switch
        {
            "+" => NumberValue.Of(a + b, integer),
            "-" => NumberValue.Of(a - b, integer),
            "*" => NumberValue.Of(a * b, integer),
            "/" => NumberValue.Float(a / b),
            "//" => NumberValue.Of(Math.Floor(a / b), integer),
            "%" => NumberValue.Of(a % b, integer),
            "<" => BooleanValue.Of(a < b),
            ">" => BooleanValue.Of(a > b),
            "<=" => BooleanValue.Of(a <= b),
            ">=" => BooleanValue.Of(a >= b),
            _ => null,
        };
    }
}
