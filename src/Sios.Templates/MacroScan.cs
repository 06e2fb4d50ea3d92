namespace Sios.Templates;

/// <summary>
/// Whether a macro's body reads <c>kwargs</c> or <c>varargs</c> before declaring them, visiting nodes in Jinja's
/// order as the reference does: a macro that reads them accepts extra arguments, one that does not refuses them.
/// </summary>
internal sealed class MacroScan
{
    private readonly HashSet<string> _declared = [];
    private readonly HashSet<string> _accessed = [];

    public static IReadOnlySet<string> SpecialArguments(List<Expr> parameters, List<Node> body)
    {
        var scan = new MacroScan();
        foreach (var parameter in parameters)
        {
            scan.Declare(ParameterName(parameter));
        }

        scan.Visit(body);
        return scan._accessed;
    }

    public static string ParameterName(Expr parameter) =>
        parameter is KeywordArgument keyword ? keyword.Key.Name : ((Identifier)parameter).Name;

    private static bool IsSpecial(string name) => name is "kwargs" or "varargs";

    private void Declare(string name)
    {
        if (IsSpecial(name))
        {
            _declared.Add(name);
        }
    }

    private void DeclareTarget(Expr target)
    {
        if (target is Identifier identifier)
        {
            Declare(identifier.Name);
        }
        else if (target is ListLiteral { IsTuple: true } tuple)
        {
            tuple.Items.ForEach(DeclareTarget);
        }
    }

    private void DeclareParameters(List<Expr> parameters)
    {
        foreach (var parameter in parameters)
        {
            Declare(ParameterName(parameter));
        }

        foreach (var parameter in parameters)
        {
            if (parameter is KeywordArgument keyword)
            {
                Visit(keyword.Value);
            }
        }
    }

    private void VisitFilter(Expr filter)
    {
        // A filter's name is syntax, not a variable read.
        if (filter is CallExpr call)
        {
            Visit(call.Arguments);
        }
    }

    private void Visit<T>(List<T> nodes)
        where T : Node
    {
        foreach (var node in nodes)
        {
            Visit(node);
        }
    }

    private void Visit(Node? node)
    {
        switch (node)
        {
            case ForNode loop:
                DeclareTarget(loop.Target);
                if (loop.Iterable is SelectExpr select)
                {
                    // Jinja visits a loop filter after the body and the else block.
                    Visit(select.Value);
                    Visit(loop.Body);
                    Visit(loop.Otherwise);
                    Visit(select.Test);
                }
                else
                {
                    Visit(loop.Iterable);
                    Visit(loop.Body);
                    Visit(loop.Otherwise);
                }

                break;
            case SetNode set:
                DeclareTarget(set.Target);
                Visit(set.Value);
                Visit(set.Body);
                break;
            case MacroNode macro:
                DeclareParameters(macro.Callable.Parameters);
                Visit(macro.Callable.Body);
                break;
            case CallBlockNode block:
                Visit(block.Call);
                DeclareParameters(block.Caller.Parameters);
                Visit(block.Caller.Body);
                break;
            case FilterBlockNode filter:
                Visit(filter.Body);
                VisitFilter(filter.Filter);
                break;
            case Identifier identifier:
                if (IsSpecial(identifier.Name) && !_declared.Contains(identifier.Name))
                {
                    _accessed.Add(identifier.Name);
                }

                break;
            case MemberExpr member:
                Visit(member.Target);
                if (member.Computed)
                {
                    Visit(member.Property);
                }

                break;
            case FilterExpr filter:
                Visit(filter.Operand);
                VisitFilter(filter.Filter);
                break;
            case TestExpr test:
                Visit(test.Operand);
                break;
            case SelectExpr conditional:
                Visit(conditional.Test);
                Visit(conditional.Value);
                break;
            case KeywordArgument keyword:
                Visit(keyword.Value);
                break;
            case IfNode branch:
                Visit(branch.Test);
                Visit(branch.Body);
                Visit(branch.Alternate);
                break;
            case ListLiteral list:
                Visit(list.Items);
                break;
            case DictLiteral dict:
                foreach (var (key, value) in dict.Entries)
                {
                    Visit(key);
                    Visit(value);
                }

                break;
            case CallExpr call:
                Visit(call.Callee);
                Visit(call.Arguments);
                break;
            case BinaryExpr binary:
                Visit(binary.Left);
                Visit(binary.Right);
                break;
            case UnaryExpr unary:
                Visit(unary.Operand);
                break;
            case SliceExpr slice:
                Visit(slice.Start);
                Visit(slice.Stop);
                Visit(slice.Step);
                break;
            case SpreadExpr spread:
                Visit(spread.Operand);
                break;
            case TernaryExpr ternary:
                Visit(ternary.Condition);
                Visit(ternary.WhenTrue);
                Visit(ternary.WhenFalse);
                break;
        }
    }
}
