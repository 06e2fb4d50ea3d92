using System.Text;

namespace Sios.Templates;

/// <summary>What a statement does to the loop around it.</summary>
internal enum Flow
{
    Normal,
    Break,
    Continue,
}

/// <summary>A break or continue leaving a macro body: it travels, as in the reference, to the loop around the call.</summary>
internal sealed class LoopSignal(Flow flow) : Exception(flow == Flow.Break ? "break outside a loop" : "continue outside a loop")
{
    public Flow Flow { get; } = flow;
}

/// <summary>
/// Renders one template once: statements write into a builder, expressions give values. A loop iteration cut short by
/// break or continue drops what that iteration wrote, as the reference does.
/// </summary>
internal sealed partial class Interpreter
{
    private readonly ChatTemplateOptions _options;
    private readonly Budget _budget;
    private readonly SourceMap _map;
    private readonly FunctionValue _namespace;
    private readonly List<StringBuilder> _builders = [];
    private int _depth;

    private Interpreter(ChatTemplateOptions options, SourceMap map)
    {
        _options = options;
        _budget = new Budget(options);
        _map = map;
        _namespace = new FunctionValue("namespace", (args, _) => Namespace(args));
    }

    private int Cap => _budget.Cap;

    public static string Render(List<Node> program, SourceMap map, IEnumerable<KeyValuePair<string, Value>> variables, ChatTemplateOptions options)
    {
        var interpreter = new Interpreter(options, map);
        var root = interpreter.Globals();
        foreach (var (name, value) in variables)
        {
            if (root.Declares(name))
            {
                throw new ChatTemplateException($"Variable already declared: {name}", $"variable '{name}'", 0, 0);
            }

            root.Set(name, value);
        }

        var output = new StringBuilder();
        try
        {
            var flow = interpreter.ExecBlock(program, root, output);
            if (flow != Flow.Normal)
            {
                throw new LoopSignal(flow);
            }
        }
        catch (LoopSignal signal)
        {
            throw new ChatTemplateException(signal.Message, signal.Flow == Flow.Break ? "statement 'break'" : "statement 'continue'", 0, 0);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new ChatTemplateException("the template nests too deeply to render", "nesting", 0, 0);
        }

        return output.ToString();
    }

    private ChatTemplateException Located(RenderError error, Node node)
    {
        var (line, column) = _map.LineColumn(node.Offset);
        var message = error.Raised ? error.Message : $"{error.Message} at {line}:{column}";
        return new ChatTemplateException(message, error.Construct, line, column, error.Raised);
    }

    private void Step() => _budget.Step();

    private void CheckLength(long length) => _budget.CheckLength(length);

    private Flow ExecBlock(List<Node> body, Scope scope, StringBuilder output)
    {
        foreach (var node in body)
        {
            Flow flow;
            try
            {
                flow = Exec(node, scope, output);
            }
            catch (RenderError error)
            {
                throw Located(error, node);
            }

            if (flow != Flow.Normal)
            {
                return flow;
            }

            CheckLength(output.Length);
        }

        return Flow.Normal;
    }

    private Flow Exec(Node node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case Expr expression:
                Print(Eval(expression, scope), output);
                return Flow.Normal;
            case IfNode branch:
                return ExecBlock(Values.Truthy(Eval(branch.Test, scope)) ? branch.Body : branch.Alternate, scope, output);
            case ForNode loop:
                return ExecFor(loop, scope, output);
            case SetNode set:
                return ExecSet(set, scope);
            case MacroNode macro:
                var name = macro.Name.Name;
                var quoted = $"'{name}'";
                scope.Set(name, new FunctionValue($"macro {quoted}", (args, caller) => Invoke(macro.Callable, quoted, args, caller.Child())));
                return Flow.Normal;
            case CallBlockNode block:
                Print(CallBlock(block, scope), output);
                return Flow.Normal;
            case FilterBlockNode filter:
                var body = new StringBuilder();
                var flow = ExecBlock(filter.Body, scope, body);
                if (flow == Flow.Normal)
                {
                    Print(ApplyFilter(new StringValue(body.ToString()), filter.Filter, scope), output);
                }

                return flow;
            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            case CommentNode:
                return Flow.Normal;
            default:
                throw new System.Diagnostics.UnreachableException($"no rendering for {node.GetType().Name}");
        }
    }

    // Null and undefined print nothing; everything else as its toString.
    private void Print(Value value, StringBuilder output)
    {
        if (value is not (NullValue or UndefinedValue))
        {
            var text = Values.Display(value, _budget);
            _budget.ChargeText(text.Length);
            output.Append(text);
        }
    }

    private Flow ExecSet(SetNode set, Scope scope)
    {
        Value value;
        if (set.Value is not null)
        {
            value = Eval(set.Value, scope);
        }
        else
        {
            var body = new StringBuilder();
            var flow = ExecBlock(set.Body, scope, body);
            if (flow != Flow.Normal)
            {
                return flow;
            }

            value = new StringValue(body.ToString());
        }

        switch (set.Target)
        {
            case Identifier identifier:
                scope.Set(identifier.Name, value);
                break;
            case ListLiteral { IsTuple: true } tuple:
                if (value is not ArrayValue array)
                {
                    throw new RenderError($"Cannot unpack non-iterable type in set: {value.TypeName}", "statement 'set'");
                }

                if (array.Items.Count != tuple.Items.Count)
                {
                    throw new RenderError($"Too {(tuple.Items.Count > array.Items.Count ? "few" : "many")} items to unpack in set", "statement 'set'");
                }

                for (var i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not Identifier element)
                    {
                        throw new RenderError("Cannot unpack to a non-identifier in set", "statement 'set'");
                    }

                    scope.Set(element.Name, array.Items[i]);
                }

                break;
            case MemberExpr member:
                if (Eval(member.Target, scope) is not NamespaceValue ns)
                {
                    throw new RenderError("cannot assign attribute on non-namespace object", "statement 'set'");
                }

                if (member.Property is not Identifier property)
                {
                    throw new RenderError("Cannot assign to member with non-identifier property", "statement 'set'");
                }

                ns.Entries[property.Name] = value is VoidValue ? UndefinedValue.Instance : value;
                break;
            default:
                throw new RenderError("Invalid left-hand side of an assignment", "statement 'set'");
        }

        return Flow.Normal;
    }

    private Flow ExecFor(ForNode loop, Scope outer, StringBuilder output)
    {
        var scope = outer.Child();
        var (source, test) = loop.Iterable is SelectExpr select ? (select.Value, select.Test) : (loop.Iterable, null);
        var items = Eval(source, scope) switch
        {
            ArrayValue array => array.Items,
            ObjectValue dict => [.. dict.Entries.Keys.Select(key => (Value)new StringValue(key))],
            var other => throw new RenderError($"Expected iterable or object type in for loop: got {other.TypeName}", "statement 'for'"),
        };

        // The loop filter runs first, over every item, so loop.length and loop.last count only what passes.
        var kept = new List<Value>();
        foreach (var item in items.ToList())
        {
            if (test is not null)
            {
                var itemScope = scope.Child();
                Bind(loop.Target, item, itemScope);
                if (!Values.Truthy(Eval(test, itemScope)))
                {
                    continue;
                }
            }
            else
            {
                CheckUnpackable(loop.Target, item);
            }

            kept.Add(item);
        }

        var iterated = false;
        for (var i = 0; i < kept.Count; i++)
        {
            Step();
            scope.Set("loop", LoopObject(kept, i));
            Bind(loop.Target, kept[i], scope);
            var mark = output.Length;
            Flow flow;
            try
            {
                flow = ExecBlock(loop.Body, scope, output);
            }
            catch (LoopSignal signal)
            {
                flow = signal.Flow;
            }

            // A cut-short iteration leaves no output and, as in the reference, does not count as having iterated.
            if (flow != Flow.Normal)
            {
                output.Length = mark;
                if (flow == Flow.Break)
                {
                    break;
                }

                continue;
            }

            iterated = true;
        }

        return iterated ? Flow.Normal : ExecBlock(loop.Otherwise, scope, output);
    }

    private static ObjectValue LoopObject(List<Value> items, int i) => new(() => new OrderedDictionary<string, Value>(9)
    {
        ["index"] = NumberValue.Integer(i + 1),
        ["index0"] = NumberValue.Integer(i),
        ["revindex"] = NumberValue.Integer(items.Count - i),
        ["revindex0"] = NumberValue.Integer(items.Count - i - 1),
        ["first"] = BooleanValue.Of(i == 0),
        ["last"] = BooleanValue.Of(i == items.Count - 1),
        ["length"] = NumberValue.Integer(items.Count),
        ["previtem"] = i > 0 ? items[i - 1] : UndefinedValue.Instance,
        ["nextitem"] = i < items.Count - 1 ? items[i + 1] : UndefinedValue.Instance,
    });

    // The reference checks a tuple target while collecting items, even without a loop filter.
    private static void CheckUnpackable(Expr target, Value item)
    {
        if (target is ListLiteral tuple)
        {
            if (item.Kind != ValueKind.Array)
            {
                throw new RenderError($"Cannot unpack non-iterable type: {item.TypeName}", "statement 'for'");
            }

            var count = ((ArrayValue)item).Items.Count;
            if (count != tuple.Items.Count)
            {
                throw new RenderError($"Too {(tuple.Items.Count > count ? "few" : "many")} items to unpack", "statement 'for'");
            }
        }
    }

    private static void Bind(Expr target, Value item, Scope scope)
    {
        if (target is Identifier identifier)
        {
            scope.Set(identifier.Name, item);
            return;
        }

        CheckUnpackable(target, item);
        var tuple = (ListLiteral)target;
        for (var i = 0; i < tuple.Items.Count; i++)
        {
            if (tuple.Items[i] is not Identifier element)
            {
                throw new RenderError("Cannot unpack to a non-identifier in a for loop", "statement 'for'");
            }

            scope.Set(element.Name, ((ArrayValue)item).Items[i]);
        }
    }
}
