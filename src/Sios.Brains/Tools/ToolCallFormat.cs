using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Tools;

/// <summary>
/// How one family of models writes tool calls: the marker that opens them, the grammar that makes a call valid
/// (the named tool, arguments that follow its schema), and the reader that turns the text back into calls. Chosen
/// from the chat template, which is the only place a GGUF says how its model was taught to call tools.
/// </summary>
public abstract class ToolCallFormat
{
    /// <summary>Most calls one answer may hold when parallel calls are allowed (a bound for the grammar, not OpenAI's).</summary>
    public const int MaxParallelCalls = 8;

    /// <summary>Distinct tool sets whose grammars are kept: an agent sends the same tools every turn.</summary>
    private const int CachedGrammars = 64;

    // Compiled grammars by format and tool set: the gateway checks a request's tools and the engine compiles them again,
    // and each turn of an agent loop offers the same ones, so without this every schema would be checked several times.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> s_grammars = new(StringComparer.Ordinal);

    /// <summary>The format of the Hermes / Qwen family: <c>&lt;tool_call&gt;{"name":…,"arguments":…}&lt;/tool_call&gt;</c>.</summary>
    public static ToolCallFormat Hermes { get; } = new HermesFormat();

    /// <summary>Llama 3.x: the answer is <c>{"name":…,"parameters":…}</c>.</summary>
    public static ToolCallFormat Llama3Json { get; } = new Llama3Format();

    /// <summary>Mistral Nemo and older: <c>[TOOL_CALLS][{"name":…,"arguments":…,"id":…}]</c>.</summary>
    public static ToolCallFormat MistralJson { get; } = new MistralJsonFormat();

    /// <summary>Mistral Small 3.2, Devstral, Ministral 3: <c>[TOOL_CALLS]name[ARGS]{…}</c> per call.</summary>
    public static ToolCallFormat MistralArgs { get; } = new MistralArgsFormat();

    /// <summary>For templates that know no tools: they are described in a system turn and called as <c>{"tool_calls":[…]}</c>.</summary>
    public static ToolCallFormat Generic { get; } = new GenericFormat();

    /// <summary>The name shown to operators (<c>sios brain show</c>) and in errors.</summary>
    public abstract string Name { get; }

    /// <summary>The text that opens the calls; in auto mode the grammar engages once it is generated.</summary>
    public abstract string Marker { get; }

    /// <summary>
    /// The text every answer of calls begins with, up to the first tool name: text generated before the grammar engaged
    /// is replayed into it only when it is a prefix of this, since a grammar fed text it refuses cannot recover.
    /// </summary>
    public abstract string CallPrefix { get; }

    /// <summary>The text between a call's tool name and its arguments object, as the grammar writes it.</summary>
    internal abstract string NameEnd { get; }

    /// <summary>The text that opens each call after the first, up to its tool name, or null when an answer holds one call.</summary>
    internal virtual string? NextCall => null;

    /// <summary>The tool name and the model's own call id, when the family writes one before the arguments.</summary>
    internal virtual (string Name, string? Id) SplitCallId(string head) => (head, null);

    /// <summary>Texts of this format that models have as special tokens; they are shown as text, not dropped like other control tokens.</summary>
    public virtual IReadOnlyList<string> SpecialTexts => [Marker];

    /// <summary>Whether calls can only open the answer (the marker counts only after leading whitespace), not follow text.</summary>
    public virtual bool AtStartOnly => false;

    /// <summary>Whether the template renders tool definitions, calls and results itself.</summary>
    public virtual bool TemplateKnowsTools => true;

    /// <summary>
    /// The family of <paramref name="template"/>, from what it writes: the markers of a known family, else the generic
    /// format (which also serves templates that mention tools in a way this server does not know).
    /// </summary>
    public static ToolCallFormat Detect(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        if (template.Contains("<tool_call>", StringComparison.Ordinal))
        {
            return Hermes;
        }

        if (template.Contains("[TOOL_CALLS]", StringComparison.Ordinal))
        {
            return template.Contains("[ARGS]", StringComparison.Ordinal) ? MistralArgs : MistralJson;
        }

        if (template.Contains("<|start_header_id|>", StringComparison.Ordinal) && template.Contains("\"parameters\"", StringComparison.Ordinal))
        {
            return Llama3Json;
        }

        return Generic;
    }

    /// <summary>A new call id, as this family's templates accept them.</summary>
    public virtual string NewCallId() => "call_" + RandomAlphanumeric(24);

    /// <summary>
    /// The GBNF grammar of an answer made only of calls of <paramref name="tools"/> (one, or up to
    /// <see cref="MaxParallelCalls"/> when <paramref name="parallel"/>), each naming its tool and giving arguments that
    /// follow the tool's schema. A little leading whitespace is allowed, so text generated before the grammar engaged
    /// (in auto mode) can be replayed into it.
    /// </summary>
    /// <exception cref="ArgumentException">A tool's parameters schema is refused; the message names the tool.</exception>
    public string Grammar(IReadOnlyList<ToolDefinition> tools, bool parallel)
    {
        ArgumentNullException.ThrowIfNull(tools);
        if (tools.Count == 0)
        {
            throw new ArgumentException("A tool-call grammar needs at least one tool.", nameof(tools));
        }

        var key = GrammarKey(tools, parallel);
        if (s_grammars.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var grammar = Compile(tools, parallel);
        if (s_grammars.Count >= CachedGrammars)
        {
            s_grammars.Clear();
        }

        s_grammars[key] = grammar;
        return grammar;
    }

    private string GrammarKey(IReadOnlyList<ToolDefinition> tools, bool parallel)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var tool in tools)
        {
            // Lengths first, so no two tool sets can run together into the same bytes.
            hash.AppendData(Encoding.UTF8.GetBytes($"{tool.Name.Length}:{tool.Name}{tool.Parameters.Length}:"));
            hash.AppendData(Encoding.UTF8.GetBytes(tool.Parameters));
        }

        return $"{Name}/{parallel}/{Convert.ToHexString(hash.GetHashAndReset())}";
    }

    private string Compile(IReadOnlyList<ToolDefinition> tools, bool parallel)
    {
        try
        {
            return JsonSchemaGrammar.Compose(
                [.. tools.Select(t => t.Parameters)],
                arguments =>
                {
                    var calls = string.Join(" | ", tools.Select((t, i) => "( " + OneCall(t.Name, arguments[i]) + " )"));
                    return "[ \\t\\n]{0,8} " + Sequence("( " + calls + " )", parallel ? MaxParallelCalls : 1);
                });
        }
        catch (ArgumentException e) when (e.Message.StartsWith("schema ", StringComparison.Ordinal))
        {
            var at = e.Message.IndexOf(':', StringComparison.Ordinal);
            var index = int.Parse(e.Message.AsSpan(7, at - 7), CultureInfo.InvariantCulture);
            throw new ArgumentException($"tools[{index}] ('{tools[index].Name}'): the parameters schema is refused:{e.Message[(at + 1)..]}", e);
        }
    }

    /// <summary>
    /// The calls in <paramref name="text"/> (an answer from the marker on, or from its start for
    /// <see cref="AtStartOnly"/> formats), or null when it is not a complete, well-formed list of calls of
    /// <paramref name="tools"/>.
    /// </summary>
    public IReadOnlyList<FunctionCallContent>? Parse(string text, IReadOnlyList<ToolDefinition> tools)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tools);
        List<(string Name, string Arguments, string? Id)>? raw;
        try
        {
            raw = ParseCalls(text.Trim());
        }
        catch (JsonException)
        {
            return null;
        }

        if (raw is null || raw.Count == 0 || raw.Any(c => !tools.Any(t => t.Name == c.Name)))
        {
            return null;
        }

        return [.. raw.Select(c => new FunctionCallContent(c.Id ?? NewCallId(), c.Name, c.Arguments))];
    }

    /// <summary>The GBNF of one call of the tool <paramref name="name"/> whose arguments match the rule <paramref name="arguments"/>.</summary>
    protected abstract string OneCall(string name, string arguments);

    /// <summary>The GBNF of one to <paramref name="most"/> calls (<paramref name="one"/>), with the family's framing.</summary>
    protected virtual string Sequence(string one, int most) => most == 1 ? one : $"{one} ( \"\\n\" {one} ){{0,{most - 1}}}";

    /// <summary>The calls of a trimmed answer, or null when it is not calls of this format.</summary>
    /// <exception cref="JsonException">JSON in it is malformed.</exception>
    protected abstract List<(string Name, string Arguments, string? Id)>? ParseCalls(string text);

    /// <summary><paramref name="text"/> as a GBNF string literal.</summary>
    protected static string Literal(string text)
    {
        var gbnf = new StringBuilder("\"");
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => gbnf.Append("\\\""),
                '\\' => gbnf.Append("\\\\"),
                '\n' => gbnf.Append("\\n"),
                '\t' => gbnf.Append("\\t"),
                '\r' => gbnf.Append("\\r"),
                _ => gbnf.Append(c),
            };
        }

        return gbnf.Append('"').ToString();
    }

    /// <summary>The name and the arguments (as JSON object text) of a call object, reading <paramref name="argumentsMember"/> or <c>arguments</c>.</summary>
    protected static (string Name, string Arguments, string? Id)? ReadCallObject(JsonElement call, string argumentsMember = "arguments")
    {
        if (call.ValueKind != JsonValueKind.Object
            || !call.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !(call.TryGetProperty(argumentsMember, out var arguments) || call.TryGetProperty("arguments", out arguments)))
        {
            return null;
        }

        var id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        return ReadArguments(arguments) is { } text ? (name.GetString()!, text, id) : null;
    }

    /// <summary>Arguments as JSON object text: an object as written, or a string holding an object.</summary>
    protected static string? ReadArguments(JsonElement arguments)
    {
        if (arguments.ValueKind == JsonValueKind.Object)
        {
            return arguments.GetRawText();
        }

        if (arguments.ValueKind == JsonValueKind.String)
        {
            var text = arguments.GetString()!;
            using var inner = JsonDocument.Parse(text);
            return inner.RootElement.ValueKind == JsonValueKind.Object ? text : null;
        }

        return null;
    }

    /// <summary>The JSON value at the start of <paramref name="text"/> and the number of characters it spans.</summary>
    /// <exception cref="JsonException">No complete JSON value starts there.</exception>
    protected static (JsonDocument Value, int Length) LeadingJson(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = 64 });
        var value = JsonDocument.ParseValue(ref reader);
        return (value, Encoding.UTF8.GetCharCount(bytes.AsSpan(0, (int)reader.BytesConsumed)));
    }

    /// <summary><paramref name="length"/> random characters from <c>a-z A-Z 0-9</c>.</summary>
    protected static string RandomAlphanumeric(int length) =>
        RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", length);
}
