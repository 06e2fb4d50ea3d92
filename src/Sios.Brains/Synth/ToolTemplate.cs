namespace Sios.Brains.Synth;

/// <summary>
/// A ChatML chat template with tool calling in the Hermes convention (tools listed in <c>&lt;tools&gt;</c>, calls in
/// <c>&lt;tool_call&gt;</c>, results in <c>&lt;tool_response&gt;</c>), written for the demo's tool-capable brain: the
/// convention Qwen 2.5/3 and Hermes models are trained on, so a synthesized model speaks it as theirs do.
/// </summary>
public static class ToolTemplate
{
    /// <summary>The template text.</summary>
    public const string HermesChatMl = """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0].role == 'system' %}
                {{- messages[0].content + '\n\n' }}
            {%- endif %}
            {{- 'You can call functions. Their signatures are within <tools></tools>:\n<tools>' }}
            {%- for tool in tools %}
                {{- '\n' + (tool | tojson) }}
            {%- endfor %}
            {{- '\n</tools>\n\nTo call one, answer with its name and arguments as JSON within <tool_call></tool_call>:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' }}
        {%- elif messages[0].role == 'system' %}
            {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
        {%- endif %}
        {%- for message in messages %}
            {%- if message.role == 'system' and loop.first %}
            {%- elif message.role == 'tool' %}
                {%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}
                    {{- '<|im_start|>user' }}
                {%- endif %}
                {{- '\n<tool_response>\n' + message.content + '\n</tool_response>' }}
                {%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}
                    {{- '<|im_end|>\n' }}
                {%- endif %}
            {%- elif message.role == 'assistant' and message.tool_calls %}
                {{- '<|im_start|>assistant' }}
                {%- if message.content %}
                    {{- '\n' + message.content }}
                {%- endif %}
                {%- for call in message.tool_calls %}
                    {{- '\n<tool_call>\n{"name": "' + call.function.name + '", "arguments": ' + (call.function.arguments | tojson) + '}\n</tool_call>' }}
                {%- endfor %}
                {{- '<|im_end|>\n' }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        """;
}
