using System.Text.Json;

namespace Sios.Brains.Tools;

/// <summary>Hermes / Qwen: each call is <c>&lt;tool_call&gt;\n{"name": …, "arguments": …}\n&lt;/tool_call&gt;</c>.</summary>
internal sealed class HermesFormat : ToolCallFormat
{
    private const string Close = "</tool_call>";

    public override string Name => "hermes";

    internal override string NameEnd => "\", \"arguments\": ";

    internal override string NextCall => "\n" + CallPrefix;

    public override string Marker => "<tool_call>";

    public override string CallPrefix => Marker + "\n{\"name\": \"";

    public override IReadOnlyList<string> SpecialTexts => [Marker, Close];

    protected override string OneCall(string name, string arguments) =>
        $"{Literal(Marker + "\n{\"name\": \"" + name + "\", \"arguments\": ")} {arguments} {Literal("}\n" + Close)}";

    protected override List<(string Name, string Arguments, string? Id)>? ParseCalls(string text)
    {
        var calls = new List<(string, string, string?)>();
        var rest = text;
        while (rest.Length > 0)
        {
            if (!rest.StartsWith(Marker, StringComparison.Ordinal))
            {
                return null;
            }

            var body = rest[Marker.Length..].TrimStart();
            var (value, length) = LeadingJson(body);
            using (value)
            {
                if (ReadCallObject(value.RootElement) is not { } call)
                {
                    return null;
                }

                calls.Add(call);
            }

            rest = body[length..].TrimStart();
            if (rest.StartsWith(Close, StringComparison.Ordinal))
            {
                rest = rest[Close.Length..].TrimStart();
            }
            else if (rest.Length > 0)
            {
                return null;
            }
        }

        return calls;
    }
}

/// <summary>Llama 3.x: the whole answer is one <c>{"name": …, "parameters": …}</c> object.</summary>
internal sealed class Llama3Format : ToolCallFormat
{
    public override string Name => "llama3-json";

    internal override string NameEnd => "\", \"parameters\": ";

    public override string Marker => "{\"name\"";

    public override string CallPrefix => "{\"name\": \"";

    public override bool AtStartOnly => true;

    protected override string OneCall(string name, string arguments) =>
        $"{Literal("{\"name\": \"" + name + "\", \"parameters\": ")} {arguments} \"}}\"";

    protected override string Sequence(string one, int most) => one;

    protected override List<(string Name, string Arguments, string? Id)>? ParseCalls(string text)
    {
        var (value, length) = LeadingJson(text);
        using (value)
        {
            return text[length..].Trim().Length == 0 && ReadCallObject(value.RootElement, "parameters") is { } call ? [call] : null;
        }
    }
}

/// <summary>Mistral Nemo: <c>[TOOL_CALLS][{"name": …, "arguments": …, "id": "(9 alphanumerics)"}, …]</c>.</summary>
internal sealed class MistralJsonFormat : ToolCallFormat
{
    public override string Name => "mistral-json";

    internal override string NameEnd => "\", \"arguments\": ";

    internal override string NextCall => ", {\"name\": \"";

    public override string Marker => "[TOOL_CALLS]";

    public override string CallPrefix => Marker + "[{\"name\": \"";

    // The templates of this family refuse any other id with raise_exception.
    public override string NewCallId() => RandomAlphanumeric(9);

    protected override string OneCall(string name, string arguments) =>
        $"{Literal("{\"name\": \"" + name + "\", \"arguments\": ")} {arguments} {Literal(", \"id\": \"")} [a-zA-Z0-9]{{9}} {Literal("\"}")}";

    protected override string Sequence(string one, int most) =>
        $"{Literal(Marker + "[")} {one} {(most == 1 ? "" : $"( \", \" {one} ){{0,{most - 1}}} ")}\"]\"";

    protected override List<(string Name, string Arguments, string? Id)>? ParseCalls(string text)
    {
        if (!text.StartsWith(Marker, StringComparison.Ordinal))
        {
            return null;
        }

        var (value, length) = LeadingJson(text[Marker.Length..].TrimStart());
        using (value)
        {
            if (value.RootElement.ValueKind != JsonValueKind.Array || text[Marker.Length..].TrimStart()[length..].Trim().Length != 0)
            {
                return null;
            }

            var calls = new List<(string, string, string?)>();
            foreach (var item in value.RootElement.EnumerateArray())
            {
                if (ReadCallObject(item) is not { } call)
                {
                    return null;
                }

                calls.Add(call);
            }

            return calls;
        }
    }
}

/// <summary>Mistral Small 3.2 / Devstral / Ministral 3: each call is <c>[TOOL_CALLS]name[ARGS]{…}</c>, optionally with <c>[CALL_ID]id</c> before <c>[ARGS]</c>.</summary>
internal sealed class MistralArgsFormat : ToolCallFormat
{
    private const string Args = "[ARGS]";
    private const string CallIdTag = "[CALL_ID]";

    public override string Name => "mistral-args";

    internal override string NameEnd => Args;

    internal override string NextCall => Marker;

    internal override (string Name, string? Id) SplitCallId(string head) =>
        head.IndexOf(CallIdTag, StringComparison.Ordinal) is var at and >= 0 ? (head[..at], head[(at + CallIdTag.Length)..]) : (head, null);

    public override string Marker => "[TOOL_CALLS]";

    public override string CallPrefix => Marker;

    public override IReadOnlyList<string> SpecialTexts => [Marker, Args, CallIdTag];

    public override string NewCallId() => RandomAlphanumeric(9);

    protected override string OneCall(string name, string arguments) => $"{Literal(Marker + name + Args)} {arguments}";

    protected override string Sequence(string one, int most) => most == 1 ? one : $"{one} {one}{{0,{most - 1}}}";

    protected override List<(string Name, string Arguments, string? Id)>? ParseCalls(string text)
    {
        var calls = new List<(string, string, string?)>();
        var rest = text;
        while (rest.Length > 0)
        {
            if (!rest.StartsWith(Marker, StringComparison.Ordinal))
            {
                return null;
            }

            var args = rest.IndexOf(Args, StringComparison.Ordinal);
            if (args < 0)
            {
                return null;
            }

            var head = rest[Marker.Length..args];
            string? id = null;
            if (head.IndexOf(CallIdTag, StringComparison.Ordinal) is var at and >= 0)
            {
                id = head[(at + CallIdTag.Length)..];
                head = head[..at];
            }

            var (value, length) = LeadingJson(rest[(args + Args.Length)..]);
            using (value)
            {
                if (ReadArguments(value.RootElement) is not { } arguments || head.Length == 0)
                {
                    return null;
                }

                calls.Add((head, arguments, id));
            }

            rest = rest[(args + Args.Length + length)..].TrimStart();
        }

        return calls;
    }
}

/// <summary>
/// For templates with no tool syntax of their own: the tools are described to the model in a system turn and a call is
/// the answer <c>{"tool_calls": [{"name": …, "arguments": …}, …]}</c>.
/// </summary>
internal sealed class GenericFormat : ToolCallFormat
{
    public override string Name => "generic";

    internal override string NameEnd => "\", \"arguments\": ";

    internal override string NextCall => ", {\"name\": \"";

    public override string Marker => "{\"tool_calls\"";

    public override string CallPrefix => Marker + ": [{\"name\": \"";

    public override bool AtStartOnly => true;

    public override bool TemplateKnowsTools => false;

    protected override string OneCall(string name, string arguments) =>
        $"{Literal("{\"name\": \"" + name + "\", \"arguments\": ")} {arguments} \"}}\"";

    protected override string Sequence(string one, int most) =>
        $"{Literal(Marker + ": [")} {one} {(most == 1 ? "" : $"( \", \" {one} ){{0,{most - 1}}} ")}{Literal("]}")}";

    protected override List<(string Name, string Arguments, string? Id)>? ParseCalls(string text)
    {
        var (value, length) = LeadingJson(text);
        using (value)
        {
            if (text[length..].Trim().Length != 0 || value.RootElement.ValueKind != JsonValueKind.Object
                || !value.RootElement.TryGetProperty("tool_calls", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var calls = new List<(string, string, string?)>();
            foreach (var item in list.EnumerateArray())
            {
                if (ReadCallObject(item) is not { } call)
                {
                    return null;
                }

                calls.Add(call);
            }

            return calls;
        }
    }
}
