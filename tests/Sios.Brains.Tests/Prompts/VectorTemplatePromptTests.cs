using Sios.Brains.Engines;
using Sios.Brains.Prompts;
using Sios.Brains.Tools;
using Sios.Tests.Shared;

namespace Sios.Brains.Tests.Prompts;

/// <summary>
/// Every public model's template in ../shared/vectors/chat-templates as a brain's template: it loads, and a tool-calling
/// conversation built the way the gateway builds it (a question, the assistant's call, the tool's result, the answer
/// to come) renders, or is refused cleanly, with the tools and the result in the prompt.
/// </summary>
public sealed class VectorTemplatePromptTests
{
    public static TheoryData<string> Templates()
    {
        var data = new TheoryData<string>();
        if (Vectors.Root is not null)
        {
            foreach (var file in Directory.GetFiles(Vectors.PathOf("chat-templates"), "*.jinja").Order(StringComparer.Ordinal))
            {
                data.Add(Path.GetFileName(file));
            }
        }
        else
        {
            data.Add("(absent)");
        }

        return data;
    }

    private static readonly ToolDefinition s_weather = new(
        "get_weather", "The weather in a city", """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""");

    private static ChatRequest Conversation(string callId) => new()
    {
        Messages =
        [
            new ChatMessage("system", "You are terse."),
            new ChatMessage("user", "Weather in Oslo?"),
            new ChatMessage("assistant", [new FunctionCallContent(callId, "get_weather", """{"city": "Oslo"}""")]),
            new ChatMessage("tool", [new FunctionResultContent(callId, "rain, 4 degrees")]),
        ],
        Tools = [s_weather],
    };

    [VectorTheory]
    [MemberData(nameof(Templates))]
    public void Every_vector_template_loads_or_is_refused_naming_where_and_renders_a_tool_conversation_or_refuses_it(string name)
    {
        var source = File.ReadAllText(Vectors.PathOf(Path.Combine("chat-templates", name)));
        PromptTemplate template;
        try
        {
            template = PromptTemplate.Load(source, "<s>", "</s>", name);
        }
        catch (ModelLoadException e)
        {
            // Only templates the reference renderer cannot run either (a method or filter it lacks) may be refused.
            Assert.Matches(@"at \d+:\d+", e.Message);
            Assert.Contains(name, s_refusedAtLoad);
            return;
        }

        Assert.DoesNotContain(name, s_refusedAtLoad);
        var id = template.ToolFormat == ToolCallFormat.MistralJson || template.ToolFormat == ToolCallFormat.MistralArgs ? "abcDEF123" : "call_1";
        string prompt;
        try
        {
            prompt = template.Render(Conversation(id), new FixedClock());
        }
        catch (ChatTemplateRefusedException e)
        {
            // Some templates refuse a shape of conversation with their own raise_exception, or use a construct the
            // reference renderer lacks on it; either is a clean refusal (a 400), never a crash.
            Assert.StartsWith("The brain's chat template", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(name, s_rendersTools);
            return;
        }

        Assert.Contains("rain, 4 degrees", prompt, StringComparison.Ordinal);
        Assert.Contains(template.KnowsTools ? "get_weather" : "\"tool_calls\"", prompt, StringComparison.Ordinal);
    }

    /// <summary>
    /// Templates that need what the reference renderer (and so this one) lacks (<c>str.format</c>, non-string dict keys,
    /// <c>string</c> of a mapping) or variables no OpenAI request has (firefunction's <c>functions</c>).
    /// </summary>
    private static readonly string[] s_refusedAtLoad = ["tencent-Hy3.jinja", "ByteDance-Seed-OSS.jinja", "unsloth-Apriel-1.5.jinja", "fireworks-ai-llama-3-firefunction-v2.jinja"];

    /// <summary>Mainstream templates that must render a tool conversation.</summary>
    private static readonly string[] s_rendersTools =
    [
        "Qwen-Qwen2.5-7B-Instruct.jinja", "Qwen-Qwen3-0.6B.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja", "meta-llama-Llama-3.3-70B-Instruct.jinja",
        "Mistral-Small-3.2-24B-Instruct-2506.jinja", "mistralai-Mistral-Nemo-Instruct-2407.jinja", 
        "openai-gpt-oss-120b.jinja", "ibm-granite-granite-3.3-2B-Instruct.jinja", "microsoft-Phi-3.5-mini-instruct.jinja",
    ];

    [VectorFact]
    public void The_families_of_the_vector_templates_are_recognised()
    {
        var families = Directory.GetFiles(Vectors.PathOf("chat-templates"), "*.jinja")
            .GroupBy(f => ToolCallFormat.Detect(File.ReadAllText(f)).Name)
            .ToDictionary(g => g.Key, g => g.Count());
        Assert.True(families.GetValueOrDefault("hermes") >= 15, string.Join(", ", families));
        Assert.True(families.GetValueOrDefault("llama3-json") >= 3, string.Join(", ", families));
        Assert.True(families.GetValueOrDefault("mistral-args") >= 2, string.Join(", ", families));
        Assert.True(families.GetValueOrDefault("mistral-json") >= 1, string.Join(", ", families));
        Assert.Equal("llama3-json", ToolCallFormat.Detect(File.ReadAllText(Vectors.PathOf("chat-templates/meta-llama-Llama-3.1-8B-Instruct.jinja"))).Name);
        Assert.Equal("hermes", ToolCallFormat.Detect(File.ReadAllText(Vectors.PathOf("chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja"))).Name);
    }

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    }
}
