namespace Sios.Brains.Engines;

/// <summary>
/// One part of a chat turn, in the spirit of Microsoft.Extensions.AI's <c>AIContent</c>: text, a function call the
/// assistant made, the result a caller fed back, or what an answer cost.
/// </summary>
public abstract record ChatContent;

/// <summary>Plain text.</summary>
/// <param name="Text">The text.</param>
public sealed record TextContent(string Text) : ChatContent;

/// <summary>A call of one of the offered tools, made by the assistant.</summary>
/// <param name="CallId">The id that ties the call to its result (OpenAI's <c>tool_call_id</c>).</param>
/// <param name="Name">The tool's name.</param>
/// <param name="Arguments">The arguments as JSON text (an object), exactly as generated.</param>
public sealed record FunctionCallContent(string CallId, string Name, string Arguments) : ChatContent;

/// <summary>
/// A piece of a call as it is generated, for streams: first its head (id and name, empty arguments), then fragments of
/// its arguments that, joined, are the call's <see cref="FunctionCallContent.Arguments"/>.
/// </summary>
/// <param name="Index">Which call of the answer it belongs to, from 0.</param>
/// <param name="CallId">The call's id, on the head only.</param>
/// <param name="Name">The tool's name, on the head only.</param>
/// <param name="Arguments">The next fragment of the arguments (empty on the head).</param>
public sealed record FunctionCallDelta(int Index, string? CallId, string? Name, string Arguments);

/// <summary>The result of a call, fed back by the caller.</summary>
/// <param name="CallId">The id of the call it answers.</param>
/// <param name="Result">The result as the caller gave it (text).</param>
public sealed record FunctionResultContent(string CallId, string Result) : ChatContent;

/// <summary>What an answer cost.</summary>
/// <param name="Usage">The token counts.</param>
public sealed record UsageContent(Usage Usage) : ChatContent;

/// <summary>One chat turn: a role and its parts.</summary>
public sealed record ChatMessage
{
    /// <summary>A turn holding only <paramref name="content"/> as text.</summary>
    public ChatMessage(string role, string content)
        : this(role, [new TextContent(content)])
    {
    }

    /// <summary>A turn made of <paramref name="contents"/>.</summary>
    public ChatMessage(string role, IReadOnlyList<ChatContent> contents)
    {
        Role = role;
        Contents = contents;
    }

    /// <summary>The speaker: <c>system</c>, <c>user</c>, <c>assistant</c> or <c>tool</c> (or any role the template knows).</summary>
    public string Role { get; }

    /// <summary>The parts of the turn, in order.</summary>
    public IReadOnlyList<ChatContent> Contents { get; }

    /// <summary>The text parts joined (empty when there are none).</summary>
    public string Content => Contents.Count == 1 && Contents[0] is TextContent only
        ? only.Text
        : string.Concat(Contents.OfType<TextContent>().Select(t => t.Text));

    /// <summary>The function calls of an assistant turn.</summary>
    public IEnumerable<FunctionCallContent> Calls => Contents.OfType<FunctionCallContent>();

    /// <summary>The function result of a tool turn, or null.</summary>
    public FunctionResultContent? Result => Contents.OfType<FunctionResultContent>().FirstOrDefault();
}
