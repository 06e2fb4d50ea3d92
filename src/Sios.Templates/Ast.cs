namespace Sios.Templates;

/// <summary>A node of the parsed template; <see cref="Offset"/> is its place in the source, for errors.</summary>
internal abstract class Node(int offset)
{
    public int Offset { get; } = offset;
}

/// <summary>An expression; at the top level of a body (text, <c>{{ }}</c>) its value is printed.</summary>
internal abstract class Expr(int offset) : Node(offset);

internal sealed class CommentNode(int offset) : Node(offset);

internal sealed class IfNode(int offset, Expr test, List<Node> body, List<Node> alternate) : Node(offset)
{
    public Expr Test { get; } = test;
    public List<Node> Body { get; } = body;
    public List<Node> Alternate { get; } = alternate;
}

internal sealed class ForNode(int offset, Expr target, Expr iterable, List<Node> body, List<Node> otherwise) : Node(offset)
{
    public Expr Target { get; } = target;
    public Expr Iterable { get; } = iterable;
    public List<Node> Body { get; } = body;
    public List<Node> Otherwise { get; } = otherwise;
}

internal sealed class BreakNode(int offset) : Node(offset);

internal sealed class ContinueNode(int offset) : Node(offset);

/// <summary><c>{% set target = value %}</c>, or the block form when <see cref="Value"/> is null.</summary>
internal sealed class SetNode(int offset, Expr target, Expr? value, List<Node> body) : Node(offset)
{
    public Expr Target { get; } = target;
    public Expr? Value { get; } = value;
    public List<Node> Body { get; } = body;
}

/// <summary>A macro or a call block's caller: its parameters and whether its body reads kwargs or varargs.</summary>
internal sealed class Callable(List<Expr> parameters, List<Node> body)
{
    public List<Expr> Parameters { get; } = parameters;
    public List<Node> Body { get; } = body;
    public IReadOnlySet<string> Special { get; } = MacroScan.SpecialArguments(parameters, body);
}

internal sealed class MacroNode(int offset, Identifier name, Callable callable) : Node(offset)
{
    public Identifier Name { get; } = name;
    public Callable Callable { get; } = callable;
}

internal sealed class CallBlockNode(int offset, CallExpr call, List<Expr>? callerParameters, Callable caller) : Node(offset)
{
    public CallExpr Call { get; } = call;
    public List<Expr>? CallerParameters { get; } = callerParameters;
    public Callable Caller { get; } = caller;
}

internal sealed class FilterBlockNode(int offset, Expr filter, List<Node> body) : Node(offset)
{
    public Expr Filter { get; } = filter;
    public List<Node> Body { get; } = body;
}

internal sealed class Identifier(int offset, string name) : Expr(offset)
{
    public string Name { get; } = name;
}

internal sealed class NumberLiteral(int offset, double number, bool isInteger) : Expr(offset)
{
    public NumberValue Value { get; } = new(number, isInteger);
}

internal sealed class StringLiteral(int offset, string text) : Expr(offset)
{
    public StringValue Value { get; } = new(text);
}

/// <summary>A list or, when <see cref="IsTuple"/>, a tuple literal.</summary>
internal sealed class ListLiteral(int offset, List<Expr> items, bool isTuple) : Expr(offset)
{
    public List<Expr> Items { get; } = items;
    public bool IsTuple { get; } = isTuple;
}

internal sealed class DictLiteral(int offset, List<(Expr Key, Expr Value)> entries) : Expr(offset)
{
    public List<(Expr Key, Expr Value)> Entries { get; } = entries;
}

/// <summary><c>a.b</c> (not computed: property is an identifier or integer) or <c>a[b]</c> (computed).</summary>
internal sealed class MemberExpr(int offset, Expr target, Expr property, bool computed) : Expr(offset)
{
    public Expr Target { get; } = target;
    public Expr Property { get; } = property;
    public bool Computed { get; } = computed;
}

internal sealed class CallExpr(int offset, Expr callee, List<Expr> arguments) : Expr(offset)
{
    public Expr Callee { get; } = callee;
    public List<Expr> Arguments { get; } = arguments;
}

internal sealed class BinaryExpr(int offset, string op, Expr left, Expr right) : Expr(offset)
{
    public string Op { get; } = op;
    public Expr Left { get; } = left;
    public Expr Right { get; } = right;
}

/// <summary><c>operand | filter</c>; the filter is an identifier or a call of one (anything else fails at render).</summary>
internal sealed class FilterExpr(int offset, Expr operand, Expr filter) : Expr(offset)
{
    public Expr Operand { get; } = operand;
    public Expr Filter { get; } = filter;
}

internal sealed class TestExpr(int offset, Expr operand, bool negate, Identifier test) : Expr(offset)
{
    public Expr Operand { get; } = operand;
    public bool Negate { get; } = negate;
    public Identifier Test { get; } = test;
}

internal sealed class UnaryExpr(int offset, string op, Expr operand) : Expr(offset)
{
    public string Op { get; } = op;
    public Expr Operand { get; } = operand;
}

internal sealed class SliceExpr(int offset, Expr? start, Expr? stop, Expr? step) : Expr(offset)
{
    public Expr? Start { get; } = start;
    public Expr? Stop { get; } = stop;
    public Expr? Step { get; } = step;
}

internal sealed class KeywordArgument(int offset, Identifier key, Expr value) : Expr(offset)
{
    public Identifier Key { get; } = key;
    public Expr Value { get; } = value;
}

/// <summary><c>*args</c> or, when <see cref="Keywords"/>, <c>**kwargs</c> in a call.</summary>
internal sealed class SpreadExpr(int offset, Expr operand, bool keywords) : Expr(offset)
{
    public Expr Operand { get; } = operand;
    public bool Keywords { get; } = keywords;
}

internal sealed class TernaryExpr(int offset, Expr condition, Expr whenTrue, Expr whenFalse) : Expr(offset)
{
    public Expr Condition { get; } = condition;
    public Expr WhenTrue { get; } = whenTrue;
    public Expr WhenFalse { get; } = whenFalse;
}

/// <summary><c>value if test</c> with no else: undefined when the test fails (and a loop filter in a for).</summary>
internal sealed class SelectExpr(int offset, Expr value, Expr test) : Expr(offset)
{
    public Expr Value { get; } = value;
    public Expr Test { get; } = test;
}
