using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;

namespace Sios.Brains.Upstream;

/// <summary>
/// Assembles the tool calls an upstream streams in fragments (id and name first, then pieces of the arguments, each
/// keyed by its index), within a bound, and checks them when the answer ends: a call of a tool that was not offered,
/// or arguments that are not a JSON object, is the upstream's fault, not an answer to pass on.
/// </summary>
internal sealed class UpstreamToolCalls(IReadOnlyList<ToolDefinition> offered)
{
    private const int MaxArgumentChars = 1 << 20;
    private readonly SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)> _calls = [];
    private int _chars;

    /// <summary>Adds the fragments of one chunk.</summary>
    /// <exception cref="UpstreamProtocolException">The calls grow past the bound.</exception>
    public void Add(IReadOnlyList<ToolCallDelta> deltas)
    {
        foreach (var delta in deltas)
        {
            var call = _calls.TryGetValue(delta.Index, out var c) ? c : (null, null, new StringBuilder());
            call.Id ??= delta.Id;
            call.Name ??= delta.Name;
            if (delta.Arguments is { } piece)
            {
                _chars += piece.Length;
                if (_chars > MaxArgumentChars)
                {
                    throw new UpstreamProtocolException($"The upstream's tool call arguments are longer than {MaxArgumentChars} characters.");
                }

                call.Arguments.Append(piece);
            }

            _calls[delta.Index] = call;
        }
    }

    /// <summary>The calls, in index order.</summary>
    /// <exception cref="UpstreamProtocolException">A call has no name, names a tool that was not offered, or has arguments that are not a JSON object.</exception>
    public List<FunctionCallContent> Complete()
    {
        var made = new List<FunctionCallContent>(_calls.Count);
        foreach (var (index, (id, name, arguments)) in _calls)
        {
            if (name is null || !offered.Any(t => t.Name == name))
            {
                throw new UpstreamProtocolException($"The upstream called a tool ('{name ?? "(no name)"}', call {index}) that the request did not offer.");
            }

            var text = arguments.Length == 0 ? "{}" : arguments.ToString();
            try
            {
                using var parsed = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
                if (parsed.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new UpstreamProtocolException($"The upstream's call of '{name}' has arguments that are not a JSON object.");
                }
            }
            catch (JsonException e)
            {
                throw new UpstreamProtocolException($"The upstream's call of '{name}' has arguments that are not valid JSON: {e.Message}", e);
            }

            made.Add(new FunctionCallContent(string.IsNullOrEmpty(id) ? "call_" + Guid.NewGuid().ToString("N")[..24] : id, name, text));
        }

        return made;
    }
}
