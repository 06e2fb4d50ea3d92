using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Tools;

/// <summary>OpenAI's <c>tool_calls</c> array, as both an answer and a forwarded history write it.</summary>
public static class ToolCallJson
{
    /// <summary>Writes <c>"tool_calls": [{"id", "type": "function", "function": {"name", "arguments"}}, …]</c>.</summary>
    public static void Write(Utf8JsonWriter json, IEnumerable<FunctionCallContent> calls)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(calls);
        json.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            json.WriteStartObject();
            json.WriteString("id", call.CallId);
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", call.Name);
            json.WriteString("arguments", call.Arguments);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
