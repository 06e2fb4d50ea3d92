using System.Text;

namespace Sios.Templates;

/// <summary>
/// The reference's filters, which it dispatches on the operand's type first: a filter exists only for the types it
/// lists (`none|string` fails, `x|default` without parentheses fails on undefined), and unknown names fail at render.
/// </summary>
internal sealed partial class Interpreter
{
    private Value ApplyFilter(Value operand, Expr filter, Scope scope)
    {
        var name = filter switch
        {
            Identifier identifier => identifier.Name,
            CallExpr { Callee: Identifier callee } => callee.Name,
            _ => throw new RenderError($"Unknown filter: {filter.GetType().Name}", "filter"),
        };

        // A filter is a call that mostly passes over its operand (a sort, several times); what it makes costs too.
        Step();
        if (name is "sort" or "dictsort")
        {
            _budget.ChargeSort(operand, operand is ArrayValue a ? a.Items.Count : operand is ObjectValue o ? o.Entries.Count : 0);
        }
        else if (name is not ("length" or "first" or "last" or "list" or "safe" or "default" or "string"))
        {
            _budget.ChargeSize(operand);
        }

        var result = filter is CallExpr call ? CalledFilter(operand, name, call, scope) : NamedFilter(operand, name, scope);
        if (!ReferenceEquals(result, operand) && name is not ("first" or "last" or "default"))
        {
            _budget.ChargeSize(result);
        }

        return result;
    }

    private static RenderError UnknownFilter(string name, Value operand) =>
        new($"Unknown filter '{name}' for {operand.TypeName}", $"filter '{name}'");

    private Value NamedFilter(Value operand, string name, Scope scope)
    {
        if (name == "safe")
        {
            return operand;
        }

        if (name == "tojson")
        {
            return new StringValue(JsonFormatter.Format(operand, JsonOptions.ToJson, _budget));
        }

        switch (operand)
        {
            case ArrayValue array:
                return name switch
                {
                    "list" => array,
                    "first" => array.Items.Count > 0 ? array.Items[0] : VoidValue.Instance,
                    "last" => array.Items.Count > 0 ? array.Items[^1] : VoidValue.Instance,
                    "length" => NumberValue.Integer(array.Items.Count),
                    "reverse" => new ArrayValue(Enumerable.Reverse(array.Items).ToList()),
                    "sort" => new ArrayValue(ValueOrder.StableSort(array.Items, new ValueOrder(false, null))),
                    "join" => new StringValue(Join(array.Items.Select(v => Values.JoinPiece(v, _budget)), "")),
                    "string" => new StringValue(JsonFormatter.Format(array, JsonOptions.Display, _budget)),
                    "unique" => Unique(array),
                    _ => throw UnknownFilter(name, operand),
                };
            case StringValue text:
                return name switch
                {
                    "length" => NumberValue.Integer(text.Text.Length),
                    "upper" => new StringValue(JsText.ToUpper(text.Text)),
                    "lower" => new StringValue(JsText.ToLower(text.Text)),
                    "title" => new StringValue(JsText.Title(text.Text)),
                    "capitalize" => new StringValue(JsText.Capitalize(text.Text)),
                    "trim" => new StringValue(JsText.Trim(text.Text)),
                    "indent" => Indent(text.Text, 4, first: false, blank: false),
                    "join" or "string" => text,
                    "int" => NumberValue.Integer(NaNTo(JsNumber.ParseInt(text.Text), 0)),
                    "float" => NumberValue.Float(NaNTo(JsNumber.ParseFloat(text.Text), 0)),
                    _ => throw UnknownFilter(name, operand),
                };
            case NumberValue number:
                return name switch
                {
                    "abs" => NumberValue.Of(Math.Abs(number.Number), number.Kind == ValueKind.Integer),
                    "int" => NumberValue.Integer(Math.Floor(number.Number)),
                    "float" => NumberValue.Float(number.Number),
                    "string" => new StringValue(Values.Display(number, _budget)),
                    _ => throw UnknownFilter(name, operand),
                };
            case ObjectValue dict:
                return name switch
                {
                    "items" => ObjectMethods.Items(dict),
                    "length" => NumberValue.Integer(dict.Entries.Count),
                    _ => ObjectMethods.Get(dict, name) switch
                    {
                        FunctionValue method => method.Invoke([], scope),
                        null => throw UnknownFilter(name, operand),
                        var value => value,
                    },
                };
            case BooleanValue boolean:
                return name switch
                {
                    "bool" => boolean,
                    "int" => NumberValue.Integer(boolean.Flag ? 1 : 0),
                    "float" => NumberValue.Float(boolean.Flag ? 1 : 0),
                    "string" => new StringValue(boolean.Flag ? "true" : "false"),
                    _ => throw UnknownFilter(name, operand),
                };
            case VoidValue:
                throw Values.VoidUse();
            default:
                throw new RenderError($"Cannot apply filter \"{name}\" to type: {operand.TypeName}", $"filter '{name}'");
        }
    }

    private static double NaNTo(double value, double fallback) => double.IsNaN(value) ? fallback : value;

    private Value CalledFilter(Value operand, string name, CallExpr call, Scope scope)
    {
        switch (name)
        {
            case "tojson":
                return ToJson(operand, ArgumentParts(call.Arguments, scope).Keywords);
            case "join":
                return JoinFilter(operand, call, scope);
            case "int" or "float":
                return NumberFilter(operand, name, call, scope);
            case "default":
                var (args, keywords) = ArgumentParts(call.Arguments, scope);
                var fallback = args.ElementAtOrDefault(0) ?? StringValue.Empty;
                var boolean = args.ElementAtOrDefault(1) ?? keywords.GetValueOrDefault("boolean") ?? BooleanValue.False;
                if (boolean is not BooleanValue flag)
                {
                    throw new RenderError("`default` filter flag must be a boolean", "filter 'default'");
                }

                return operand is UndefinedValue || (flag.Flag && !Values.Truthy(operand)) ? fallback : operand;
        }

        switch (operand)
        {
            case ArrayValue array:
                return name switch
                {
                    "sort" => Sort(array, call, scope),
                    "selectattr" or "rejectattr" => SelectAttribute(array, name, call),
                    "map" => MapAttribute(array, call, scope),
                    _ => throw UnknownFilter(name, operand),
                };
            case StringValue text:
                return name switch
                {
                    "indent" => IndentFilter(text.Text, call, scope),
                    "replace" => StringMethods.Replace(text.Text, Arguments(call.Arguments, scope, evenIfNone: true), _budget),
                    _ => throw UnknownFilter(name, operand),
                };
            case ObjectValue dict when ObjectMethods.Get(dict, name) is FunctionValue method:
                return method.Invoke(Arguments(call.Arguments, scope), scope);
            case ObjectValue:
                throw UnknownFilter(name, operand);
            case VoidValue:
                throw Values.VoidUse();
            default:
                throw new RenderError($"Cannot apply filter \"{name}\" to type: {operand.TypeName}", $"filter '{name}'");
        }
    }

    private StringValue ToJson(Value operand, OrderedDictionary<string, Value> keywords)
    {
        var indent = keywords.GetValueOrDefault("indent") ?? NullValue.Instance;
        if (indent is not (NumberValue { Kind: ValueKind.Integer } or NullValue))
        {
            throw new RenderError("If set, indent must be a number", "filter 'tojson'");
        }

        var ensureAscii = keywords.GetValueOrDefault("ensure_ascii") ?? BooleanValue.False;
        var sortKeys = keywords.GetValueOrDefault("sort_keys") ?? BooleanValue.False;
        if (ensureAscii is not BooleanValue ascii || sortKeys is not BooleanValue sort)
        {
            throw new RenderError("If set, ensure_ascii and sort_keys must be booleans", "filter 'tojson'");
        }

        (string, string)? separators = null;
        switch (keywords.GetValueOrDefault("separators") ?? NullValue.Instance)
        {
            case ArrayValue { Items: [StringValue item, StringValue key] }:
                separators = (item.Text, key.Text);
                break;
            case NullValue:
                break;
            default:
                throw new RenderError("If set, separators must be a tuple of two strings", "filter 'tojson'");
        }

        var options = new JsonOptions((indent as NumberValue)?.Number, ascii.Flag, separators, sort.Flag, UndefinedAsNull: true);
        return new StringValue(JsonFormatter.Format(operand, options, _budget));
    }

    // A string joins its code points (Array.from), a list its items' raw strings.
    private StringValue JoinFilter(Value operand, CallExpr call, Scope scope)
    {
        if (operand is not (StringValue or ArrayValue))
        {
            throw new RenderError($"Cannot apply filter \"join\" to type: {operand.TypeName}", "filter 'join'");
        }

        var (args, keywords) = ArgumentParts(call.Arguments, scope);
        if ((args.ElementAtOrDefault(0) ?? keywords.GetValueOrDefault("separator") ?? StringValue.Empty) is not StringValue separator)
        {
            throw new RenderError("separator must be a string", "filter 'join'");
        }

        return new StringValue(operand is ArrayValue array
            ? Join(array.Items.Select(v => Values.JoinPiece(v, _budget)), separator.Text)
            : JoinCodePoints(((StringValue)operand).Text, separator.Text));
    }

    // Element by element, like slicing with a step: a sixteenth of a step each, charged first.
    private string JoinCodePoints(string text, string separator)
    {
        var bounds = text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') ? JsText.CodePointStarts(text) : null;
        var count = bounds is null ? text.Length : bounds.Length - 1;
        _budget.Charge(count / 16.0);
        CheckLength(text.Length + ((long)Math.Max(0, count - 1) * separator.Length));
        var result = new StringBuilder();
        for (var k = 0; k < count; k++)
        {
            result.Append(k > 0 ? separator : "");
            _ = bounds is null ? result.Append(text[k]) : result.Append(text, bounds[k], bounds[k + 1] - bounds[k]);
        }

        return result.ToString();
    }

    private string Join(IEnumerable<string> pieces, string separator)
    {
        var result = new StringBuilder();
        var first = true;
        foreach (var piece in pieces)
        {
            result.Append(first ? "" : separator).Append(piece);
            first = false;
            CheckLength(result.Length);
        }

        return result.ToString();
    }

    private Value NumberFilter(Value operand, string name, CallExpr call, Scope scope)
    {
        var (args, keywords) = ArgumentParts(call.Arguments, scope);
        var integer = name == "int";
        var fallback = args.ElementAtOrDefault(0) ?? keywords.GetValueOrDefault("default") ?? NumberValue.Of(0, integer);
        return operand switch
        {
            StringValue text => (integer ? JsNumber.ParseInt(text.Text) : JsNumber.ParseFloat(text.Text)) is var n && double.IsNaN(n) ? fallback : NumberValue.Of(n, integer),
            NumberValue => operand,
            BooleanValue b => NumberValue.Of(b.Flag ? 1 : 0, integer),
            VoidValue => throw Values.VoidUse(),
            _ => throw new RenderError($"Cannot apply filter \"{name}\" to type: {operand.TypeName}", $"filter '{name}'"),
        };
    }

    private static ArrayValue Unique(ArrayValue array)
    {
        var seen = new HashSet<object>();
        return new ArrayValue([.. array.Items.Where(item => seen.Add(SameValueZeroKey(item)))]);
    }

    // A key equal for values a JavaScript Set holds once: by value for primitives, by identity for containers.
    private static object SameValueZeroKey(Value value) => value switch
    {
        NumberValue n => n.Number == 0 ? 0.0 : n.Number,
        StringValue s => s.Text,
        BooleanValue b => b.Flag,
        NullValue or UndefinedValue => value,
        ArrayValue a => a.Items,
        ObjectValue o => o.Entries,
        NamespaceValue ns => ns.Entries,
        VoidValue => throw Values.VoidUse(),
        _ => value,
    };

    private StringValue Indent(string text, int width, bool first, bool blank)
    {
        var pad = new string(' ', width);
        var lines = text.Split('\n');
        CheckLength(text.Length + (lines.Length * width));
        return new StringValue(string.Join("\n", lines.Select((line, i) => (!first && i == 0) || (!blank && line.Length == 0) ? line : pad + line)));
    }

    private StringValue IndentFilter(string text, CallExpr call, Scope scope)
    {
        var (args, keywords) = ArgumentParts(call.Arguments, scope);
        var width = args.ElementAtOrDefault(0) ?? keywords.GetValueOrDefault("width") ?? NumberValue.Integer(4);
        if (width is not NumberValue { Kind: ValueKind.Integer } count)
        {
            throw new RenderError("width must be a number", "filter 'indent'");
        }

        if (count.Number < 0)
        {
            throw new RenderError($"Invalid indent width: {JsNumber.ToString(count.Number)}", "filter 'indent'");
        }

        CheckLength((int)Math.Min(count.Number, int.MaxValue));

        var first = args.ElementAtOrDefault(1) ?? keywords.GetValueOrDefault("first") ?? BooleanValue.False;
        var blank = args.ElementAtOrDefault(2) ?? keywords.GetValueOrDefault("blank") ?? BooleanValue.False;
        return Indent(text, (int)count.Number, Values.RawTruthy(first), Values.RawTruthy(blank));
    }
}
