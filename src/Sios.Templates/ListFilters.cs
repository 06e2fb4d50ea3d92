namespace Sios.Templates;

/// <summary>The list filters that take arguments: sort, selectattr/rejectattr and map (attribute form only).</summary>
internal sealed partial class Interpreter
{
    private ArrayValue Sort(ArrayValue array, CallExpr call, Scope scope)
    {
        var (args, keywords) = ArgumentParts(call.Arguments, scope);
        var reverse = args.ElementAtOrDefault(0) ?? keywords.GetValueOrDefault("reverse") ?? BooleanValue.False;
        var caseSensitive = args.ElementAtOrDefault(1) ?? keywords.GetValueOrDefault("case_sensitive") ?? BooleanValue.False;
        var attribute = args.ElementAtOrDefault(2) ?? keywords.GetValueOrDefault("attribute") ?? NullValue.Instance;
        if (reverse is not BooleanValue descending || caseSensitive is not BooleanValue sensitive)
        {
            throw new RenderError("reverse and case_sensitive must be booleans", "filter 'sort'");
        }

        var path = attribute switch
        {
            NullValue => null,
            StringValue s => s.Text,
            NumberValue { Kind: ValueKind.Integer } n => JsNumber.ToString(n.Number),
            _ => throw new RenderError("attribute must be a string, integer, or null", "filter 'sort'"),
        };
        var order = new ValueOrder(sensitive.Flag, path);
        return new ArrayValue(ValueOrder.StableSort(array.Items, descending.Flag ? Comparer<Value>.Create((a, b) => -order.Compare(a, b)) : order));
    }

    private ArrayValue SelectAttribute(ArrayValue array, string name, CallExpr call)
    {
        if (array.Items.Any(item => item is not (ObjectValue or NamespaceValue)))
        {
            throw new RenderError($"`{name}` can only be applied to array of objects", $"filter '{name}'");
        }

        if (call.Arguments.Any(argument => argument is not StringLiteral))
        {
            throw new RenderError($"arguments of `{name}` must be strings", $"filter '{name}'");
        }

        var args = call.Arguments.Select(argument => ((StringLiteral)argument).Value).ToList();
        var testName = args.ElementAtOrDefault(1)?.Text;
        if (testName is not null && !IsTest(testName))
        {
            throw new RenderError($"Unknown test: {testName}", $"test '{testName}'");
        }

        var select = name == "selectattr";
        var kept = new List<Value>();
        foreach (var item in array.Items)
        {
            var attribute = args.ElementAtOrDefault(0) ?? throw new RenderError($"`{name}` needs an attribute name", $"filter '{name}'");
            var entries = item is ObjectValue o ? o.Entries : ((NamespaceValue)item).Entries;
            var passed = entries.TryGetValue(attribute.Text, out var value) && value is not VoidValue
                && (testName is null ? Values.Truthy(value) : Test(value, testName, _budget, args.ElementAtOrDefault(2)));
            if (passed == select)
            {
                kept.Add(item);
            }
        }

        return new ArrayValue(kept);
    }

    private ArrayValue MapAttribute(ArrayValue array, CallExpr call, Scope scope)
    {
        var keywords = ArgumentParts(call.Arguments, scope).Keywords;
        if (!keywords.TryGetValue("attribute", out var attribute))
        {
            throw new RenderError("`map` expressions without `attribute` set are not currently supported.", "filter 'map'");
        }

        if (attribute is not StringValue path)
        {
            throw new RenderError("attribute must be a string", "filter 'map'");
        }

        var fallback = keywords.GetValueOrDefault("default") ?? UndefinedValue.Instance;
        Value MapOne(Value item)
        {
            if (item is not (ObjectValue or NamespaceValue))
            {
                throw new RenderError("items in map must be an object", "filter 'map'");
            }

            var value = ValueOrder.Attribute(item, path.Text);
            return value is UndefinedValue ? fallback : value;
        }

        return new ArrayValue([.. array.Items.Select(MapOne)]);
    }
}

/// <summary>
/// The reference's compareRuntimeValues: numbers and booleans compare with each other, strings with strings
/// (case-blind unless asked), none with none; anything else fails rather than guess.
/// </summary>
internal sealed class ValueOrder(bool caseSensitive, string? attributePath) : IComparer<Value>
{
    public int Compare(Value? x, Value? y)
    {
        var (a, b) = attributePath is null ? (x!, y!) : (Attribute(x!, attributePath), Attribute(y!, attributePath));
        if (a is VoidValue || b is VoidValue)
        {
            throw Values.VoidUse();
        }

        foreach (var kind in new[] { ValueKind.Null, ValueKind.Undefined })
        {
            if (a.Kind == kind && b.Kind == kind)
            {
                return 0;
            }

            if (a.Kind == kind || b.Kind == kind)
            {
                throw new RenderError($"Cannot compare {a.TypeName} with {b.TypeName}", "sort");
            }
        }

        if (Numeric(a) is { } m && Numeric(b) is { } n)
        {
            return m < n ? -1 : m > n ? 1 : 0;
        }

        if (a.Kind != b.Kind)
        {
            throw new RenderError($"Cannot compare different types: {a.TypeName} and {b.TypeName}", "sort");
        }

        if (a is StringValue s && b is StringValue t)
        {
            var (p, q) = caseSensitive ? (s.Text, t.Text) : (JsText.ToLower(s.Text), JsText.ToLower(t.Text));
            return Math.Sign(string.CompareOrdinal(p, q));
        }

        throw new RenderError($"Cannot compare type: {a.TypeName}", "sort");
    }

    /// <summary>A stable merge sort (as JavaScript's sort is) that lets the comparer's errors through unwrapped.</summary>
    public static List<Value> StableSort(List<Value> items, IComparer<Value> comparer)
    {
        if (items.Count < 2)
        {
            return [.. items];
        }

        var middle = items.Count / 2;
        var (left, right) = (StableSort(items[..middle], comparer), StableSort(items[middle..], comparer));
        var merged = new List<Value>(items.Count);
        var (i, j) = (0, 0);
        while (i < left.Count && j < right.Count)
        {
            merged.Add(comparer.Compare(right[j], left[i]) < 0 ? right[j++] : left[i++]);
        }

        merged.AddRange(left.Skip(i));
        merged.AddRange(right.Skip(j));
        return merged;
    }

    /// <summary>getAttributeValue: a dotted path through dict keys and list indexes; undefined where it leads nowhere.</summary>
    public static Value Attribute(Value item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            switch (value)
            {
                case ObjectValue or NamespaceValue:
                    var entries = value is ObjectValue o ? o.Entries : ((NamespaceValue)value).Entries;
                    value = entries.TryGetValue(part, out var found) && found is not VoidValue ? found : UndefinedValue.Instance;
                    break;
                case ArrayValue array:
                    var index = JsNumber.ParseInt(part);
                    if (double.IsNaN(index) || index < 0 || index >= array.Items.Count)
                    {
                        return UndefinedValue.Instance;
                    }

                    value = array.Items[(int)index];
                    break;
                default:
                    return UndefinedValue.Instance;
            }
        }

        return value;
    }

    private static double? Numeric(Value value) => value switch
    {
        NumberValue n => n.Number,
        BooleanValue b => b.Flag ? 1 : 0,
        _ => null,
    };
}
