namespace Sios.Templates;

/// <summary>The reference's tests (<c>x is name</c>); some check the exact type, so a tuple is not "iterable".</summary>
internal sealed partial class Interpreter
{
    private static readonly HashSet<string> TestNames =
    [
        "boolean", "callable", "odd", "even", "false", "true", "none", "string", "number", "integer", "iterable",
        "mapping", "sequence", "lower", "upper", "defined", "undefined", "equalto", "eq",
    ];

    private static bool IsTest(string name) => TestNames.Contains(name);

    private static bool Test(Value operand, string name, Budget budget, Value? argument = null)
    {
        if (!IsTest(name))
        {
            throw new RenderError($"Unknown test: {name}", $"test '{name}'");
        }

        // The type-based tests read the operand's type, which a bare undefined does not have.
        if (operand is VoidValue && name is not ("callable" or "number" or "integer" or "mapping" or "sequence"))
        {
            throw Values.VoidUse();
        }

        // Comparing a string with its case mapping reads it whole.
        if (name is "lower" or "upper" && operand is StringValue text)
        {
            budget.ChargeSize(text);
        }

        return name switch
        {
            "boolean" => operand is BooleanValue,
            "callable" => operand is FunctionValue,
            "odd" or "even" => operand is NumberValue { Kind: ValueKind.Integer } n
                ? (n.Number % 2 != 0) == (name == "odd")
                : throw new RenderError($"cannot {name} on {operand.TypeName}", $"test '{name}'"),
            "false" or "true" => operand is BooleanValue b && b.Flag == (name == "true"),
            "none" => operand is NullValue,
            "string" => operand is StringValue,
            "number" => operand is NumberValue,
            "integer" => operand.Kind == ValueKind.Integer,
            "iterable" => operand.Kind is ValueKind.Array or ValueKind.String,
            "mapping" => operand is ObjectValue,
            "sequence" => operand is ArrayValue or ObjectValue or StringValue,
            "lower" => operand is StringValue s && JsText.IsLower(s.Text),
            "upper" => operand is StringValue u && JsText.IsUpper(u.Text),
            "defined" => operand is not UndefinedValue,
            "undefined" => operand is UndefinedValue,
            _ => Values.StrictEquals(operand, argument ?? throw new RenderError($"the '{name}' test needs a value to compare with", $"test '{name}'")),
        };
    }
}
