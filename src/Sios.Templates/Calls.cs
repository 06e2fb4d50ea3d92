using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sios.Templates;

/// <summary>Macros, call blocks and the global functions (range, namespace, raise_exception, strftime_now).</summary>
internal sealed partial class Interpreter
{
    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private Scope Globals()
    {
        var root = new Scope(null, _namespace);
        root.Set("false", BooleanValue.False);
        root.Set("true", BooleanValue.True);
        root.Set("none", NullValue.Instance);
        root.Set("raise_exception", new FunctionValue("raise_exception", (args, _) =>
            throw new RenderError(args.Count > 0 ? Values.Raw(args[0], _budget) : "", "raise_exception", raised: true)));
        root.Set("range", new FunctionValue("range", (args, _) => Range(args)));
        root.Set("strftime_now", new FunctionValue("strftime_now", (args, _) => StrftimeNow(args)));
        root.Set("True", BooleanValue.True);
        root.Set("False", BooleanValue.False);
        root.Set("None", NullValue.Instance);
        return root;
    }

    private StringValue Invoke(Callable callable, string displayName, List<Value> args, Scope scope)
    {
        if (_depth >= _options.MaxDepth)
        {
            throw new RenderError($"macro calls nest deeper than {_options.MaxDepth}", "limit 'depth'");
        }

        _depth++;
        try
        {
            BindArguments(callable, displayName, args, scope);

            // Calls nest strictly, so each depth can reuse one builder.
            if (_builders.Count < _depth)
            {
                _builders.Add(new StringBuilder());
            }

            var output = _builders[_depth - 1].Clear();
            var flow = ExecBlock(callable.Body, scope, output);
            return flow == Flow.Normal ? new StringValue(output.ToString()) : throw new LoopSignal(flow);
        }
        finally
        {
            _depth--;
        }
    }

    // Every parameter is bound before any default is evaluated, so a default never sees an outer variable of the
    // same name as a later parameter. Extra arguments are refused unless the body reads kwargs or varargs.
    private void BindArguments(Callable callable, string displayName, List<Value> args, Scope scope)
    {
        var positional = args;
        OrderedDictionary<string, Value>? keywords = null;
        if (args.Count > 0 && args[^1] is KeywordArgumentsValue passed)
        {
            keywords = new OrderedDictionary<string, Value>(passed.Entries);
            positional = args[..^1];
        }

        List<(string Name, Expr Default)>? pending = null;
        for (var i = 0; i < callable.Parameters.Count; i++)
        {
            var parameter = callable.Parameters[i];
            var name = MacroScan.ParameterName(parameter);
            var value = i < positional.Count && positional[i] is not VoidValue ? positional[i] : null;
            if (value is null && keywords is not null && keywords.Remove(name, out var keyword))
            {
                value = keyword;
            }

            if (value is null && parameter is KeywordArgument withDefault)
            {
                (pending ??= []).Add((name, withDefault.Value));
            }

            scope.Set(name, value ?? UndefinedValue.Instance);
        }

        keywords ??= [];
        if (callable.Special.Contains("kwargs"))
        {
            scope.Set("kwargs", new ObjectValue(keywords));
        }
        else if (keywords.Count > 0)
        {
            throw new RenderError($"macro {displayName} takes no keyword argument '{keywords.GetAt(0).Key}'", $"macro {displayName}");
        }

        if (callable.Special.Contains("varargs"))
        {
            scope.Set("varargs", new ArrayValue([.. positional.Skip(callable.Parameters.Count)]));
        }
        else if (positional.Count > callable.Parameters.Count)
        {
            throw new RenderError($"macro {displayName} takes not more than {callable.Parameters.Count} argument(s)", $"macro {displayName}");
        }

        foreach (var (name, expression) in pending ?? [])
        {
            scope.Set(name, Eval(expression, scope));
        }
    }

    // {% call macro(args) %}body{% endcall %}: the macro runs with `caller` bound to the body.
    private Value CallBlock(CallBlockNode block, Scope scope)
    {
        var definition = scope.Capture();
        var caller = new FunctionValue("caller", (args, _) => Invoke(block.Caller, "None", args, definition.Child()));
        var arguments = Arguments(block.Call.Arguments, scope, evenIfNone: true);
        if (Eval(block.Call.Callee, scope) is not FunctionValue callee)
        {
            throw new RenderError("Cannot call something that is not a function", "statement 'call'");
        }

        var inner = scope.Child();
        inner.Set("caller", caller);
        Step();
        return callee.Invoke(arguments, inner);
    }

    private NamespaceValue Namespace(List<Value> args)
    {
        args.ForEach(_budget.ChargeSize);
        var positional = args.ToList();
        KeywordArgumentsValue? keywords = null;
        if (positional.Count > 0 && positional[^1] is KeywordArgumentsValue last)
        {
            keywords = last;
            positional.RemoveAt(positional.Count - 1);
        }

        if (positional.Count > 1)
        {
            throw new RenderError($"namespace expected at most 1 argument, got {positional.Count}", "function 'namespace'");
        }

        // Top-level entries are copied, so assigning to the namespace never changes the dict it came from.
        var entries = new OrderedDictionary<string, Value>();
        switch (positional.FirstOrDefault())
        {
            case null:
                break;
            case ObjectValue dict:
                foreach (var (key, value) in dict.Entries)
                {
                    entries[key] = value;
                }

                break;
            case ArrayValue pairs:
                foreach (var pair in pairs.Items)
                {
                    var (key, value) = NamespacePair(pair);
                    entries[key] = value;
                }

                break;
            case var other:
                throw new RenderError($"'{other.TypeName}' object is not iterable", "function 'namespace'");
        }

        foreach (var (key, value) in keywords?.Entries ?? [])
        {
            entries[key] = value;
        }

        return new NamespaceValue(entries);
    }

    private static (string Key, Value Value) NamespacePair(Value pair)
    {
        var items = pair switch
        {
            ArrayValue array => array.Items,
            StringValue text => JsText.CodePoints(text.Text).Select(c => (Value)new StringValue(c)).ToList(),
            _ => null,
        };
        if (items is not { Count: 2 })
        {
            throw new RenderError("namespace expected an object or an iterable of [key, value] pairs", "function 'namespace'");
        }

        return items[0] is StringValue key ? (key.Text, items[1]) : throw new RenderError("namespace keys must be strings", "function 'namespace'");
    }

    // range(stop) or range(start, stop[, step]) over JavaScript numbers; a float step accumulates as it does there.
    private ArrayValue Range(List<Value> args)
    {
        double? Number(int i) => args.ElementAtOrDefault(i) switch
        {
            null or UndefinedValue => null,
            NumberValue n => n.Number,
            var other => throw new RenderError($"range() arguments must be numbers, got {other.TypeName}", "function 'range'"),
        };

        var (start, stop, step) = (Number(0), Number(1), Number(2) ?? 1);
        if (stop is null)
        {
            (start, stop) = (0, start);
        }

        if (step == 0)
        {
            throw new RenderError("range() step must not be zero", "function 'range'");
        }

        // Refused before it is made: the call is charged for every item of its result.
        var (from, to) = (start ?? double.NaN, stop ?? double.NaN);
        var count = step > 0 ? Math.Ceiling((to - from) / step) : Math.Ceiling((from - to) / -step);
        if (count > Math.Min(_budget.Remaining, Cap))
        {
            throw new RenderError($"range() of {JsNumber.ToString(count)} items exceeds the limits", "limit 'steps'");
        }

        var items = new List<Value>();
        for (var i = from; step > 0 ? i < to : i > to; i += step)
        {
            items.Add(NumberValue.Of(i, double.IsFinite(i) && i == Math.Floor(i)));
        }

        return new ArrayValue(items);
    }

    private StringValue StrftimeNow(List<Value> args)
    {
        if (args.ElementAtOrDefault(0) is not StringValue format)
        {
            throw new RenderError("strftime_now() needs a format string", "function 'strftime_now'");
        }

        var now = _options.Clock.GetLocalNow();
        var text = StrftimeDirective().Replace(format.Text, match => match.Value[1] switch
        {
            'Y' => now.Year.ToString(CultureInfo.InvariantCulture),
            'm' => now.Month.ToString("00", CultureInfo.InvariantCulture),
            'd' => now.Day.ToString("00", CultureInfo.InvariantCulture),
            'b' => MonthNames[now.Month - 1][..3],
            'B' => MonthNames[now.Month - 1],
            'H' => now.Hour.ToString("00", CultureInfo.InvariantCulture),
            'M' => now.Minute.ToString("00", CultureInfo.InvariantCulture),
            _ => "%",
        });
        return new StringValue(text);
    }

    [GeneratedRegex("%[YmdbBHM%]")]
    private static partial Regex StrftimeDirective();
}
