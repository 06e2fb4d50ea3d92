using System.Runtime.CompilerServices;
using System.Text;

namespace Sios.Templates;

/// <summary>Expression evaluation: literals, names, members and slices, operators, calls.</summary>
internal sealed partial class Interpreter
{
    private Value Eval(Expr expression, Scope scope)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        _budget.Expression();
        try
        {
            return EvalCore(expression, scope);
        }
        catch (RenderError error)
        {
            throw Located(error, expression);
        }
    }

    private Value EvalCore(Expr expression, Scope scope)
    {
        switch (expression)
        {
            case NumberLiteral number:
                return number.Value;
            case StringLiteral text:
                return text.Value;
            case Identifier identifier:
                return scope.Lookup(identifier.Name);
            case ListLiteral list:
                var items = list.Items.Select(item => Eval(item, scope)).ToList();
                return list.IsTuple ? new TupleValue(items) : new ArrayValue(items);
            case DictLiteral dict:
                var entries = new OrderedDictionary<string, Value>();
                foreach (var (key, value) in dict.Entries)
                {
                    if (Eval(key, scope) is not StringValue name)
                    {
                        throw new RenderError("Object keys must be strings", "dict literal");
                    }

                    entries[name.Text] = Eval(value, scope);
                }

                return new ObjectValue(entries);
            case MemberExpr member:
                return Member(Eval(member.Target, scope), member, scope);
            case CallExpr call:
                return Call(call, scope);
            case UnaryExpr unary:
                return Unary(unary.Op, Eval(unary.Operand, scope));
            case BinaryExpr binary:
                return Binary(binary, scope);
            case FilterExpr filter:
                return ApplyFilter(Eval(filter.Operand, scope), filter.Filter, scope);
            case TestExpr test:
                return BooleanValue.Of(Test(Eval(test.Operand, scope), test.Test.Name, _budget) != test.Negate);
            case SelectExpr select:
                return Values.Truthy(Eval(select.Test, scope)) ? Eval(select.Value, scope) : UndefinedValue.Instance;
            case TernaryExpr ternary:
                return Eval(Values.Truthy(Eval(ternary.Condition, scope)) ? ternary.WhenTrue : ternary.WhenFalse, scope);
            default:
                throw new RenderError($"Unknown node type: {expression.GetType().Name}", "expression");
        }
    }

    private Value Member(Value target, MemberExpr member, Scope scope)
    {
        Value property;
        if (member.Computed)
        {
            if (member.Property is SliceExpr slice)
            {
                return Slice(target, slice, scope);
            }

            property = Eval(member.Property, scope);
        }
        else
        {
            property = member.Property is Identifier name ? new StringValue(name.Name) : ((NumberLiteral)member.Property).Value;
        }

        Value? value;
        switch (target)
        {
            case ObjectValue or NamespaceValue:
                var key = property as StringValue ?? throw new RenderError($"Cannot access property with non-string: got {property.TypeName}", "member access");
                var entries = target is ObjectValue o ? o.Entries : ((NamespaceValue)target).Entries;
                value = entries.TryGetValue(key.Text, out var found) && found is not VoidValue
                    ? found
                    : target is ObjectValue dict ? ObjectMethods.Get(dict, key.Text) : null;
                break;
            case ArrayValue or StringValue:
                value = property switch
                {
                    NumberValue { Kind: ValueKind.Integer } index => At(target, index.Number),
                    StringValue name => target is StringValue s ? StringMethods.Get(s.Text, name.Text, _budget) : name.Text == "length" ? NumberValue.Integer(((ArrayValue)target).Items.Count) : null,
                    _ => throw new RenderError($"Cannot access property with non-string/non-number: got {property.TypeName}", "member access"),
                };
                break;
            case VoidValue:
                throw Values.VoidUse();
            default:
                _ = property as StringValue ?? throw new RenderError($"Cannot access property with non-string: got {property.TypeName}", "member access");
                value = null;
                break;
        }

        return value is null or VoidValue ? UndefinedValue.Instance : value;
    }

    // Array.prototype.at / String.prototype.at: negative indexes count from the end; a string gives a UTF-16 unit.
    private static Value? At(Value target, double index)
    {
        var count = target is StringValue s ? s.Text.Length : ((ArrayValue)target).Items.Count;
        var i = JsNumber.ToIntegerOrInfinity(index);
        if (i < 0)
        {
            i += count;
        }

        if (i < 0 || i >= count)
        {
            return null;
        }

        return target is StringValue text ? new StringValue(text.Text[(int)i].ToString()) : ((ArrayValue)target).Items[(int)i];
    }

    // Python slicing as the reference's utils.slice does it; a string is sliced by code point.
    private Value Slice(Value target, SliceExpr slice, Scope scope)
    {
        if (target is not (ArrayValue or StringValue))
        {
            throw new RenderError("Slice object must be an array or string", "slice");
        }

        _budget.ChargeSize(target);

        double? Part(Expr? part) => (part is null ? UndefinedValue.Instance : Eval(part, scope)) switch
        {
            NumberValue { Kind: ValueKind.Integer } n => n.Number,
            UndefinedValue => null,
            _ => throw new RenderError("Slice start, stop and step must be integers or undefined", "slice"),
        };

        var (start, stop, step) = (Part(slice.Start), Part(slice.Stop), Part(slice.Step) ?? 1);
        var text = (target as StringValue)?.Text;

        // A string is sliced by code point; only one with surrogates needs their offsets worked out.
        var bounds = text is not null && text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') ? JsText.CodePointStarts(text) : null;
        double length = text is null ? ((ArrayValue)target).Items.Count : bounds is null ? text.Length : bounds.Length - 1;
        int Offset(double point) => bounds is null ? (int)point : bounds[(int)point];

        // Math.sign: NaN stays NaN, which takes the descending branch and then selects nothing.
        var direction = step > 0 ? 1 : step < 0 ? -1 : step == 0 ? 0 : double.NaN;
        double from, to;
        if (direction >= 0)
        {
            var (first, end) = (start ?? 0, stop ?? length);
            from = first < 0 ? Math.Max(length + first, 0) : Math.Min(first, length);
            to = end < 0 ? Math.Max(length + end, 0) : Math.Min(end, length);
        }
        else
        {
            var (first, end) = (start ?? length - 1, stop ?? -1);
            from = first < 0 ? Math.Max(length + first, -1) : Math.Min(first, length - 1);
            to = end < -1 ? Math.Max(length + end, -1) : Math.Min(end, length - 1);
        }

        if (text is not null && step == 1)
        {
            return new StringValue(from < to ? text[Offset(from)..Offset(to)] : "");
        }

        // Picking element by element costs a sixteenth of a step each, charged before the picking.
        var count = direction * from < direction * to ? Math.Ceiling((to - from) / step) : 0;
        _budget.Charge(count / 16);
        var items = new List<Value>();
        var chars = new StringBuilder();
        for (var i = from; direction * i < direction * to; i += step)
        {
            if (text is null)
            {
                items.Add(((ArrayValue)target).Items[(int)i]);
            }
            else if (bounds is null)
            {
                chars.Append(text[(int)i]);
            }
            else
            {
                chars.Append(text, bounds[(int)i], bounds[(int)i + 1] - bounds[(int)i]);
            }
        }

        return text is null ? new ArrayValue(items) : new StringValue(chars.ToString());
    }

    private static Value Unary(string op, Value operand)
    {
        if (op == "not")
        {
            return BooleanValue.Of(!Values.Truthy(operand));
        }

        var sign = op == "-" ? -1 : 1;
        return operand switch
        {
            NumberValue n => NumberValue.Of(sign * n.Number, n.Kind == ValueKind.Integer),
            BooleanValue b => NumberValue.Integer(sign * (b.Flag ? 1 : 0)),
            _ => throw new RenderError($"Unknown operator \"{op}\" for {operand.TypeName}", $"operator '{op}'"),
        };
    }

    private Value Call(CallExpr call, Scope scope)
    {
        // As in the reference, the arguments are evaluated before the callee.
        var arguments = Arguments(call.Arguments, scope);
        Value callee;
        Value? receiver = null;
        if (call.Callee is MemberExpr { Computed: false, Property: Identifier } member)
        {
            receiver = Eval(member.Target, scope);
            callee = Member(receiver, member, scope);
            _budget.ChargeSize(receiver);
        }
        else
        {
            callee = Eval(call.Callee, scope);
        }

        if (callee is not FunctionValue function)
        {
            var what = call.Callee switch
            {
                MemberExpr { Property: Identifier method } => $"method '{PythonType(receiver!)}.{method.Name}'",
                Identifier name => $"function '{name.Name}'",
                _ => "call",
            };
            throw new RenderError($"Cannot call something that is not a function: {what} is {callee.TypeName}", what);
        }

        // The call's result costs what it holds: a method that splits a long string makes many items.
        Step();
        var result = function.Invoke(arguments, scope);
        _budget.ChargeSize(result);
        return result;
    }

    private static string PythonType(Value value) => value.Kind switch
    {
        ValueKind.String => "str",
        ValueKind.Array => "list",
        ValueKind.Tuple => "tuple",
        ValueKind.Object or ValueKind.KeywordArguments => "dict",
        ValueKind.Integer => "int",
        ValueKind.Float => "float",
        ValueKind.Boolean => "bool",
        ValueKind.Null => "none",
        ValueKind.Namespace => "namespace",
        ValueKind.Function => "function",
        _ => "undefined",
    };

    // Shared by every call without keyword arguments; nothing writes to a call's keywords.
    private static readonly OrderedDictionary<string, Value> NoKeywords = [];

    /// <summary>Positional values (with *spreads) then keyword values (with **spreads), as separate lists.</summary>
    private (List<Value> Positional, OrderedDictionary<string, Value> Keywords) ArgumentParts(List<Expr> arguments, Scope scope)
    {
        var positional = new List<Value>(arguments.Count);
        var named = false;
        foreach (var argument in arguments)
        {
            if (argument is SpreadExpr { Keywords: false } spread)
            {
                positional.AddRange(Eval(spread.Operand, scope) is ArrayValue array
                    ? array.Items
                    : throw new RenderError("Cannot unpack a non-iterable with *", "call"));
            }
            else if (argument is KeywordArgument or SpreadExpr)
            {
                named = true;
            }
            else
            {
                positional.Add(Eval(argument, scope));
            }
        }

        if (!named)
        {
            return (positional, NoKeywords);
        }

        var keywords = new OrderedDictionary<string, Value>();
        void AddKeyword(string key, Value value)
        {
            if (!keywords.TryAdd(key, value))
            {
                throw new RenderError($"Got multiple values for keyword argument '{key}'", "call");
            }
        }

        // Keyword values are evaluated after every positional one, as in Python.
        foreach (var argument in arguments)
        {
            if (argument is KeywordArgument keyword)
            {
                AddKeyword(keyword.Key.Name, Eval(keyword.Value, scope));
            }
            else if (argument is SpreadExpr { Keywords: true } spread)
            {
                var mapping = Eval(spread.Operand, scope) as ObjectValue ?? throw new RenderError("Argument after ** must be a mapping", "call");
                foreach (var (key, value) in mapping.Entries)
                {
                    AddKeyword(key, value);
                }
            }
        }

        return (positional, keywords);
    }

    /// <summary>The arguments as the reference passes them to a function: keywords, if any, as one trailing value.</summary>
    private List<Value> Arguments(List<Expr> arguments, Scope scope, bool evenIfNone = false)
    {
        var (positional, keywords) = ArgumentParts(arguments, scope);
        if (keywords.Count > 0 || evenIfNone)
        {
            positional.Add(new KeywordArgumentsValue(keywords.Count > 0 ? keywords : []));
        }

        return positional;
    }
}
