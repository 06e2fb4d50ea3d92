using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;
using Sios.Brains.Tools;
using Sios.Templates;

namespace Sios.Brains.Prompts;

/// <summary>
/// A brain's own chat template (the GGUF's <c>tokenizer.chat_template</c>, or the operator's pinned file) with the
/// special-token texts of its GGUF: turns a request into exactly the text the model reads. Parsed and tried once at
/// load, so a template this server cannot run is refused there, naming the construct, not at the first request.
/// </summary>
public sealed class PromptTemplate
{
    /// <summary>What breaks a control token's text in content: invisible, and never part of a token text.</summary>
    private const char Joiner = '\u2060';

    private readonly ChatTemplate _template;
    private readonly SearchValues<string>? _control;

    private PromptTemplate(ChatTemplate template, string bosToken, string eosToken, string digest, IReadOnlyList<string>? controlTokens)
    {
        _template = template;
        var breakable = controlTokens?.Where(t => t.Length > 1).Distinct(StringComparer.Ordinal).ToArray() ?? [];
        _control = breakable.Length == 0 ? null : SearchValues.Create(breakable, StringComparison.Ordinal);
        BosToken = bosToken;
        EosToken = eosToken;
        Digest = digest;
        ToolFormat = ToolCallFormat.Detect(template.Source);
        TakesSystem = template.Source.Contains("system", StringComparison.Ordinal);

        // A template that reads `tools` describes them in its own words, even when its call syntax is not one read here.
        KnowsTools = ToolFormat.TemplateKnowsTools || template.Source.Contains("tools", StringComparison.Ordinal);
    }

    /// <summary>The template text.</summary>
    public string Source => _template.Source;

    /// <summary><c>sha256:</c> and the hex SHA-256 of the template's UTF-8 text.</summary>
    public string Digest { get; }

    /// <summary>The text of the model's beginning-of-sequence token, as the template's <c>bos_token</c>.</summary>
    public string BosToken { get; }

    /// <summary>The text of the model's end-of-sequence token, as the template's <c>eos_token</c>.</summary>
    public string EosToken { get; }

    /// <summary>How the model writes tool calls, as its template shows.</summary>
    public ToolCallFormat ToolFormat { get; }

    /// <summary>Whether the template renders tools, calls and results itself (else they are written as generic text).</summary>
    public bool KnowsTools { get; }

    /// <summary>Whether the template speaks of a system turn (otherwise a generic tool description goes into the first user turn).</summary>
    private bool TakesSystem { get; }

    /// <summary>Breaks every control token's text in the string values under <paramref name="node"/> (see <see cref="Load"/>).</summary>
    private void Neutralise(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                // Keys too (templates print arguments and schemas with tojson): rebuilt, in order, only when one changes.
                var members = obj.ToList();
                if (members.Any(m => !ReferenceEquals(Broken(m.Key), m.Key)))
                {
                    obj.Clear();
                    foreach (var (key, child) in members)
                    {
                        obj[Broken(key)] = child;
                    }
                }

                foreach (var (key, child) in obj.ToList())
                {
                    if (child is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        var broken = Broken(text);
                        if (!ReferenceEquals(broken, text))
                        {
                            obj[key] = broken;
                        }
                    }
                    else
                    {
                        Neutralise(child);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text))
                    {
                        var broken = Broken(text);
                        if (!ReferenceEquals(broken, text))
                        {
                            array[i] = broken;
                        }
                    }
                    else
                    {
                        Neutralise(array[i]);
                    }
                }

                break;
        }
    }

    private string Broken(string text)
    {
        var at = text.AsSpan().IndexOfAny(_control!);
        if (at < 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length + 8);
        var from = 0;
        while (at >= 0)
        {
            result.Append(text, from, at + 1 - from).Append(Joiner);
            from = at + 1;
            var next = text.AsSpan(from).IndexOfAny(_control!);
            at = next < 0 ? -1 : from + next;
        }

        return result.Append(text, from, text.Length - from).ToString();
    }

    /// <summary>The hex digest form of <paramref name="source"/>, as <see cref="Digest"/>.</summary>
    public static string DigestOf(string source) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    /// <summary>
    /// Parses <paramref name="source"/> and renders a one-turn probe with it, plain and (for the templates made only for
    /// tool use, which read <c>tools</c> unconditionally) with a tool; it is refused when neither renders.
    /// </summary>
    /// <param name="source">The template text.</param>
    /// <param name="bosToken">The GGUF's BOS token text.</param>
    /// <param name="eosToken">The GGUF's EOS token text.</param>
    /// <param name="origin">Where the template comes from, for the message (a GGUF path, or a template file).</param>
    /// <param name="controlTokens">
    /// The texts of the model's control tokens. The prompt is tokenized with them read as control tokens (the template
    /// writes them), so where one appears in a client's text (content, results, tool descriptions and arguments) a
    /// word joiner (U+2060) is put after its first character: a client cannot write a turn of its own.
    /// </param>
    /// <exception cref="ModelLoadException">The template cannot be parsed or rendered; the message names the construct.</exception>
    public static PromptTemplate Load(string source, string bosToken, string eosToken, string origin, IReadOnlyList<string>? controlTokens = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ChatTemplate template;
        try
        {
            template = ChatTemplate.Parse(source);
        }
        catch (ChatTemplateException e)
        {
            throw new ModelLoadException($"The chat template of '{origin}' cannot be used: {e.Message}", e);
        }

        var prompt = new PromptTemplate(template, bosToken, eosToken, DigestOf(source), controlTokens);
        var probe = new ChatRequest { Messages = [new ChatMessage("user", "probe")] };
        try
        {
            _ = prompt.Render(probe);
        }
        catch (ChatTemplateRefusedException plain)
        {
            try
            {
                _ = prompt.Render(probe with { Tools = [new ToolDefinition("probe", "A probe.", ToolDefinition.NoParameters)] });
            }
            catch (ChatTemplateRefusedException)
            {
                throw new ModelLoadException($"The chat template of '{origin}' fails on a one-message chat: {plain.InnerException?.Message ?? plain.Message}", plain);
            }
        }

        return prompt;
    }

    /// <summary>The template a GGUF carries (<c>tokenizer.chat_template</c>) with its BOS/EOS token texts, or null when it has none.</summary>
    /// <exception cref="ModelLoadException">The template cannot be used.</exception>
    public static PromptTemplate? FromGguf(Synth.GgufHeader header, string path)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header.GetString("tokenizer.chat_template") is not { } source)
        {
            return null;
        }

        var (bos, eos) = SpecialTokenTexts(header);
        return Load(source, bos, eos, path, ControlTokenTexts(header));
    }

    /// <summary>
    /// The texts llama.cpp reads as special when tokenizing a prompt: tokens of type unknown, control or user-defined.
    /// </summary>
    public static IReadOnlyList<string> ControlTokenTexts(Synth.GgufHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (!header.Metadata.TryGetValue("tokenizer.ggml.tokens", out var t) || t is not string[] tokens
            || !header.Metadata.TryGetValue("tokenizer.ggml.token_type", out var k) || k is not int[] types)
        {
            return [];
        }

        var texts = new List<string>();
        for (var i = 0; i < Math.Min(tokens.Length, types.Length); i++)
        {
            if (types[i] is 2 or 3 or 4 && tokens[i].Length > 0)
            {
                texts.Add(tokens[i]);
            }
        }

        return texts;
    }

    /// <summary>The texts of a GGUF's BOS and EOS tokens (empty when it names none), as templates read them.</summary>
    public static (string Bos, string Eos) SpecialTokenTexts(Synth.GgufHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var tokens = header.Metadata.TryGetValue("tokenizer.ggml.tokens", out var t) ? t as string[] : null;
        string Text(string key) => header.GetUnsigned(key) is { } id && tokens is not null && id < (ulong)tokens.Length ? tokens[id] : string.Empty;
        return (Text("tokenizer.ggml.bos_token_id"), Text("tokenizer.ggml.eos_token_id"));
    }

    /// <summary>The prompt text for <paramref name="request"/>'s conversation and tools, ready for the assistant's turn.</summary>
    /// <exception cref="ChatTemplateRefusedException">The template refuses the conversation (its own <c>raise_exception</c>, or a construct failing on it).</exception>
    public string Render(ChatRequest request, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var offered = request.Tools.Count > 0;
        var generic = !KnowsTools;
        var variables = new JsonObject
        {
            ["messages"] = PromptMessages.Build(request, generic, TakesSystem, ToolFormat),
            ["add_generation_prompt"] = true,
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
        };
        if (offered && !generic)
        {
            variables["tools"] = PromptMessages.Tools(request.Tools);
        }

        if (_control is not null)
        {
            Neutralise(variables["messages"]);
            Neutralise(variables["tools"]);
        }

        try
        {
            return _template.Render(variables, clock is null ? null : new ChatTemplateOptions { Clock = clock });
        }
        catch (ChatTemplateException e)
        {
            throw new ChatTemplateRefusedException(e.Raised
                ? "The brain's chat template refuses this conversation: " + e.Message
                : "The brain's chat template cannot render this conversation: " + e.Message, e);
        }
    }
}
