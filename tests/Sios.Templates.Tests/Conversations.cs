using System.Text.Json.Nodes;

namespace Sios.Templates.Tests;

/// <summary>The conversations every vector template is rendered with: plain chat, tools, tool calls and results.</summary>
internal static class Conversations
{
    private const string Tools = """
        [
          {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city, in °C or °F.",
            "parameters": {"type": "object", "properties": {
              "city": {"type": "string", "description": "The city, e.g. Paris"},
              "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}},
          {"type": "function", "function": {"name": "search_web", "description": "Search the web and return the top results.",
            "parameters": {"type": "object", "properties": {
              "query": {"type": "string"},
              "max_results": {"type": "integer", "description": "How many results", "default": 5}}, "required": ["query"]}}}
        ]
        """;

    private const string WeatherCall = """
        {"role": "assistant", "content": null, "tool_calls": [
          {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}
        """;

    private const string WeatherResult = """{"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temperature\": 21, \"condition\": \"sunny\"}"}""";

    private const string Ask = """{"role": "user", "content": "What is the weather in Paris?"}""";

    /// <summary>Name, messages, whether the tools are passed, and any further variables (as a JSON object).</summary>
    public static readonly (string Name, string Messages, bool WithTools, string Extra)[] All =
    [
        ("system_user", """[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello! How are you?"}]""", false, "{}"),
        ("user_only", """[{"role": "user", "content": "Hello!"}]""", false, "{}"),
        ("multi_turn", """
            [{"role": "user", "content": "Hi, I'm Ana."}, {"role": "assistant", "content": "Hello Ana! How can I help?"},
             {"role": "user", "content": "Tell me a joke about cats."}]
            """, false, "{}"),
        ("empty_system", """[{"role": "system", "content": ""}, {"role": "user", "content": "Hello!"}]""", false, "{}"),
        ("reasoning", """
            [{"role": "user", "content": "What is 2+2?"},
             {"role": "assistant", "content": "4", "reasoning_content": "Two plus two is four."},
             {"role": "user", "content": "And 3+3?"}]
            """, false, "{}"),
        ("thinking_off_dated", """[{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello!"}]""", false,
            """{"enable_thinking": false, "reasoning_effort": "low", "date_string": "07 Mar 2026"}"""),
        ("documents", """[{"role": "user", "content": "Summarise the document."}]""", false,
            """{"documents": [{"title": "Report", "text": "Sales rose 5% in Q1."}, {"title": "Memo", "text": "Meeting on Friday."}]}"""),
        ("tools_user", $"[{Ask}]", true, "{}"),
        ("tool_call_answer", $$"""[{{Ask}}, {{WeatherCall}}, {{WeatherResult}}, {"role": "assistant", "content": "It is sunny and 21 °C in Paris."}]""", true, "{}"),
        ("tool_call_pending", $"[{Ask}, {WeatherCall}, {WeatherResult}]", true, "{}"),

        // Mistral's templates refuse tool call ids that are not 9 alphanumeric characters.
        ("tool_call_nine_char_id", $"[{Ask}, {WeatherCall.Replace("call_1", "A1b2C3d4E", StringComparison.Ordinal)}, {WeatherResult.Replace("call_1", "A1b2C3d4E", StringComparison.Ordinal)}]", true, "{}"),
        ("tool_call_empty_content", $"[{Ask}, {WeatherCall.Replace("\"content\": null", "\"content\": \"\"", StringComparison.Ordinal)}, {WeatherResult}]", true, "{}"),
        ("parallel_tool_calls", """
            [{"role": "system", "content": "You are a helpful assistant."},
             {"role": "user", "content": "Weather in Paris and Tokyo, and search for the best croissant."},
             {"role": "assistant", "content": null, "tool_calls": [
               {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
               {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Tokyo", "unit": "celsius"}}},
               {"id": "call_3", "type": "function", "function": {"name": "search_web", "arguments": {"query": "best croissant", "max_results": 3}}}]},
            """ + WeatherResult + """
             , {"role": "tool", "tool_call_id": "call_2", "name": "get_weather", "content": "{\"temperature\": 17, \"condition\": \"rain\"}"},
             {"role": "tool", "tool_call_id": "call_3", "name": "search_web", "content": "1. Du Pain et des Idées"}]
            """, true, "{}"),
    ];

    public static JsonObject Variables((string Name, string Messages, bool WithTools, string Extra) conversation)
    {
        var variables = new JsonObject
        {
            ["messages"] = JsonNode.Parse(conversation.Messages),
            ["add_generation_prompt"] = true,
            ["bos_token"] = "<s>",
            ["eos_token"] = "</s>",
        };
        if (conversation.WithTools)
        {
            variables["tools"] = JsonNode.Parse(Tools);
        }

        foreach (var (name, value) in JsonNode.Parse(conversation.Extra)!.AsObject())
        {
            variables[name] = value?.DeepClone();
        }

        return variables;
    }
}

/// <summary>Every case of the run, so the reference renders them all in one node process.</summary>
internal static class AllCases
{
    public static IReadOnlyList<RenderCase> Get()
    {
        var cases = new List<RenderCase>(FeatureCases.All);
        foreach (var file in TemplateFiles.Names())
        {
            cases.AddRange(TemplateFiles.Cases(file));
        }

        return cases;
    }
}

/// <summary>The vector templates, read in place from ../shared/vectors/chat-templates.</summary>
internal static class TemplateFiles
{
    public static IEnumerable<string> Names() =>
        Sios.Tests.Shared.Vectors.Root is null
            ? []
            : Directory.EnumerateFiles(Sios.Tests.Shared.Vectors.PathOf("chat-templates"), "*.jinja").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal);

    public static IEnumerable<RenderCase> Cases(string file)
    {
        var source = File.ReadAllText(Sios.Tests.Shared.Vectors.PathOf(Path.Combine("chat-templates", file)));
        return Conversations.All.Select(c => new RenderCase($"{file}#{c.Name}", source, Conversations.Variables(c)));
    }
}
