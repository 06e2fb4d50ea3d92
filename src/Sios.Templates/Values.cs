using System.Runtime.CompilerServices;

namespace Sios.Templates;

/// <summary>The reference's runtime value types; the kind is what its `.type` checks see.</summary>
internal enum ValueKind
{
    Integer,
    Float,
    String,
    Boolean,
    Object,
    KeywordArguments,
    Namespace,
    Array,
    Tuple,
    Function,
    Null,
    Undefined,

    // A bare JavaScript undefined (what `[]|first` yields): not a runtime value, so nearly any use of it fails.
    Void,
}

/// <summary>A runtime value.</summary>
internal abstract class Value
{
    public abstract ValueKind Kind { get; }

    /// <summary>The reference's type name, for messages.</summary>
    public string TypeName => Kind == ValueKind.Void ? "undefined" : Kind + "Value";
}

/// <summary>An integer or a float: both are doubles, as in JavaScript; the kind decides how it prints.</summary>
internal sealed class NumberValue(double number, bool isInteger) : Value
{
    public double Number { get; } = number;

    public override ValueKind Kind => isInteger ? ValueKind.Integer : ValueKind.Float;

    // Small integers are shared: loops and counters make them by the million.
    private static readonly NumberValue[] SmallIntegers = [.. Enumerable.Range(-128, 1153).Select(i => new NumberValue(i, true))];

    public static NumberValue Integer(double n) =>
        n is >= -128 and <= 1024 && n == Math.Floor(n) && !(n == 0 && double.IsNegative(n)) ? SmallIntegers[(int)n + 128] : new(n, true);

    public static NumberValue Float(double n) => new(n, false);

    public static NumberValue Of(double n, bool isInteger) => isInteger ? Integer(n) : Float(n);
}

internal sealed class StringValue(string text) : Value
{
    public static readonly StringValue Empty = new("");

    public string Text { get; } = text;

    public override ValueKind Kind => ValueKind.String;
}

internal sealed class BooleanValue : Value
{
    public static readonly BooleanValue True = new(true);
    public static readonly BooleanValue False = new(false);

    private BooleanValue(bool flag) => Flag = flag;

    public bool Flag { get; }

    public override ValueKind Kind => ValueKind.Boolean;

    public static BooleanValue Of(bool flag) => flag ? True : False;
}

/// <summary>A dict: insertion-ordered, as a JavaScript Map.</summary>
internal class ObjectValue : Value
{
    private readonly Func<OrderedDictionary<string, Value>>? _build;
    private OrderedDictionary<string, Value>? _entries;

    public ObjectValue(OrderedDictionary<string, Value> entries) => _entries = entries;

    /// <summary>A dict made on first use: a for loop makes a `loop` dict every iteration, and few are read.</summary>
    public ObjectValue(Func<OrderedDictionary<string, Value>> build) => _build = build;

    public OrderedDictionary<string, Value> Entries => _entries ??= _build!();

    public override ValueKind Kind => ValueKind.Object;
}

/// <summary>The keyword arguments of a call (and a macro's kwargs): a dict the reference treats apart in places.</summary>
internal sealed class KeywordArgumentsValue(OrderedDictionary<string, Value> entries) : ObjectValue(entries)
{
    public override ValueKind Kind => ValueKind.KeywordArguments;
}

/// <summary>A namespace(): attribute assignment allowed, no dict methods, always true.</summary>
internal sealed class NamespaceValue(OrderedDictionary<string, Value> entries) : Value
{
    public OrderedDictionary<string, Value> Entries { get; } = entries;

    public override ValueKind Kind => ValueKind.Namespace;
}

internal class ArrayValue(List<Value> items) : Value
{
    public List<Value> Items { get; } = items;

    public override ValueKind Kind => ValueKind.Array;
}

/// <summary>A tuple literal's value: an array to most operations, but refused by some of the reference's type checks.</summary>
internal sealed class TupleValue(List<Value> items) : ArrayValue(items)
{
    public override ValueKind Kind => ValueKind.Tuple;
}

/// <summary>Something callable: a macro, a caller block, a global or a method bound to its receiver.</summary>
internal sealed class FunctionValue(string name, Func<List<Value>, Scope, Value> invoke) : Value
{
    /// <summary>How errors name it, e.g. "macro 'render'" or "method 'str.split'".</summary>
    public string Name { get; } = name;

    public Func<List<Value>, Scope, Value> Invoke { get; } = invoke;

    public override ValueKind Kind => ValueKind.Function;
}

internal sealed class NullValue : Value
{
    public static readonly NullValue Instance = new();

    public override ValueKind Kind => ValueKind.Null;
}

internal sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Instance = new();

    public override ValueKind Kind => ValueKind.Undefined;
}

internal sealed class VoidValue : Value
{
    public static readonly VoidValue Instance = new();

    public override ValueKind Kind => ValueKind.Void;
}

/// <summary>A failure while rendering; the interpreter adds the position of the node it happened in.</summary>
internal sealed class RenderError(string message, string? construct = null, bool raised = false) : Exception(message)
{
    public string? Construct { get; } = construct;

    public bool Raised { get; } = raised;

    public static RenderError OutputLimit(string what, int cap) => new($"{what} exceeds the output limit of {cap} characters", "limit 'output'");
}

/// <summary>Conversions and comparisons with the reference's (JavaScript's) semantics.</summary>
internal static class Values
{
    /// <summary>__bool__: Python-like truthiness (empty containers false), except a namespace is always true.</summary>
    public static bool Truthy(Value v) => v switch
    {
        NumberValue n => n.Number != 0 && !double.IsNaN(n.Number),
        StringValue s => s.Text.Length > 0,
        BooleanValue b => b.Flag,
        ObjectValue o => o.Entries.Count > 0,
        ArrayValue a => a.Items.Count > 0,
        NamespaceValue or FunctionValue => true,
        VoidValue => throw VoidUse(),
        _ => false,
    };

    /// <summary>JavaScript truthiness of the wrapped value (`!!x.value`): any container is true, even empty.</summary>
    public static bool RawTruthy(Value v) => v switch
    {
        NumberValue or StringValue or BooleanValue => Truthy(v),
        NullValue or UndefinedValue => false,
        VoidValue => throw VoidUse(),
        _ => true,
    };

    /// <summary>toString() of a runtime value: how `{{ }}` prints it (containers as JSON, floats with ".0").</summary>
    public static string Display(Value v, Budget budget) => v switch
    {
        NumberValue { Kind: ValueKind.Float } n => JsNumber.FloatToString(n.Number),
        ArrayValue or ObjectValue or NamespaceValue => JsonFormatter.Format(v, JsonOptions.Display, budget),
        _ => Raw(v, budget),
    };

    /// <summary>String(x.value): the wrapped JavaScript value as a string (a float 1.0 is "1", a dict "[object Map]").</summary>
    public static string Raw(Value v, Budget budget)
    {
        switch (v)
        {
            case NumberValue n:
                return JsNumber.ToString(n.Number);
            case StringValue s:
                return s.Text;
            case BooleanValue b:
                return b.Flag ? "true" : "false";
            case NullValue:
                return "null";
            case UndefinedValue:
                return "undefined";
            case ArrayValue a:
                RuntimeHelpers.EnsureSufficientExecutionStack();
                var joined = new System.Text.StringBuilder();
                for (var i = 0; i < a.Items.Count; i++)
                {
                    joined.Append(i > 0 ? "," : "").Append(a.Items[i] is VoidValue ? "" : Display(a.Items[i], budget));
                    budget.CheckLength(joined.Length);
                }

                budget.ChargeFormatted(joined.Length);
                return joined.ToString();
            case ObjectValue or NamespaceValue:
                return "[object Map]";
            case FunctionValue f:
                return "function " + f.Name;
            default:
                throw VoidUse();
        }
    }

    /// <summary>One element of Array.prototype.join over raw values: null and undefined are empty.</summary>
    public static string JoinPiece(Value v, Budget budget) => v is NullValue or UndefinedValue ? "" : Raw(v, budget);

    /// <summary>The reference's `==`: JavaScript loose equality of the wrapped values (1 == "1", none == undefined).</summary>
    public static bool LooseEquals(Value a, Value b, Budget budget)
    {
        if (a is VoidValue || b is VoidValue)
        {
            throw VoidUse();
        }

        var (x, y) = (Primitive.Of(a), Primitive.Of(b));
        while (true)
        {
            if (x.Type == y.Type)
            {
                return x.Type switch
                {
                    PrimitiveType.Number => x.Number == y.Number,
                    PrimitiveType.String => x.Text == y.Text,
                    PrimitiveType.Object => ReferenceEquals(x.Reference, y.Reference),
                    _ => x.Number == y.Number,
                };
            }

            if (x.IsNullish || y.IsNullish)
            {
                return x.IsNullish && y.IsNullish;
            }

            if (x.Type == PrimitiveType.Boolean || y.Type == PrimitiveType.Boolean)
            {
                (x, y) = (x.Type == PrimitiveType.Boolean ? Primitive.FromNumber(x.Number) : x, y.Type == PrimitiveType.Boolean ? Primitive.FromNumber(y.Number) : y);
            }
            else if (x.Type == PrimitiveType.Object || y.Type == PrimitiveType.Object)
            {
                (x, y) = (x.Type == PrimitiveType.Object ? Primitive.FromText(Raw(x.Value!, budget)) : x, y.Type == PrimitiveType.Object ? Primitive.FromText(Raw(y.Value!, budget)) : y);
            }
            else
            {
                // A number and a string: the string is read as a number.
                return (x.Type == PrimitiveType.Number ? x.Number : JsNumber.StringToNumber(x.Text)) ==
                       (y.Type == PrimitiveType.Number ? y.Number : JsNumber.StringToNumber(y.Text));
            }
        }
    }

    /// <summary>The reference's `===` on wrapped values (used by `in`, `equalto`): same type and value, containers by identity.</summary>
    public static bool StrictEquals(Value a, Value b)
    {
        if (a is VoidValue || b is VoidValue)
        {
            throw VoidUse();
        }

        var (x, y) = (Primitive.Of(a), Primitive.Of(b));
        return x.Type == y.Type && x.Type switch
        {
            PrimitiveType.Number or PrimitiveType.Boolean => x.Number == y.Number,
            PrimitiveType.String => x.Text == y.Text,
            PrimitiveType.Object => ReferenceEquals(x.Reference, y.Reference),
            _ => true,
        };
    }

    public static RenderError VoidUse() => new("Cannot read properties of undefined (a value from an empty list's first/last)");

    private enum PrimitiveType
    {
        Undefined,
        Null,
        Number,
        String,
        Boolean,
        Object,
    }

    // A JavaScript value as the equality algorithms see it; containers are compared by the identity of what they wrap.
    private readonly record struct Primitive(PrimitiveType Type, double Number, string Text, object? Reference, Value? Value)
    {
        public bool IsNullish => Type is PrimitiveType.Undefined or PrimitiveType.Null;

        public static Primitive Of(Value v) => v switch
        {
            NumberValue n => FromNumber(n.Number),
            StringValue s => FromText(s.Text),
            BooleanValue b => new(PrimitiveType.Boolean, b.Flag ? 1 : 0, "", null, null),
            NullValue => new(PrimitiveType.Null, 0, "", null, null),
            UndefinedValue => new(PrimitiveType.Undefined, 0, "", null, null),
            ArrayValue a => new(PrimitiveType.Object, 0, "", a.Items, v),
            ObjectValue o => new(PrimitiveType.Object, 0, "", o.Entries, v),
            NamespaceValue ns => new(PrimitiveType.Object, 0, "", ns.Entries, v),
            _ => new(PrimitiveType.Object, 0, "", v, v),
        };

        public static Primitive FromNumber(double n) => new(PrimitiveType.Number, n, "", null, null);

        public static Primitive FromText(string s) => new(PrimitiveType.String, 0, s, null, null);
    }
}
