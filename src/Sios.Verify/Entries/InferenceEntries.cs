using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>An upstream endpoint as entries name it: its canonical absolute URL and the model asked for.</summary>
/// <param name="Url">The endpoint's root URL, as <see cref="Uri.AbsoluteUri"/> spells it.</param>
/// <param name="Model">The upstream model id.</param>
public sealed record UpstreamRef(string Url, string Model)
{
    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("upstream");
        json.WriteString("url", Url);
        json.WriteString("model", Model);
        json.WriteEndObject();
    }

    internal static UpstreamRef Read(EntryMembers upstream) => new(upstream.String("url"), upstream.String("model"));
}

/// <summary>
/// How an entry names a brain: <c>brain</c>, then <c>upstream</c> for a brain served by an operator-hosted endpoint, or
/// <c>weights</c> (and <c>adapter</c>) digests, <c>sha256:&lt;hex&gt;</c>, for local weights, and <c>template</c>, the
/// digest of an operator-supplied chat template file when the brain renders with one instead of its GGUF's own.
/// </summary>
/// <param name="Name">The brain's name.</param>
/// <param name="Weights">The GGUF's digest, or null for an upstream brain.</param>
/// <param name="Adapter">The adapter's digest, or null for none.</param>
/// <param name="Upstream">The endpoint of an upstream brain, or null for local weights.</param>
/// <param name="Template">The pinned chat template file's digest, or null when the brain uses its GGUF's template.</param>
public sealed record BrainRef(string Name, string? Weights = null, string? Adapter = null, UpstreamRef? Upstream = null, string? Template = null)
{
    internal void Write(Utf8JsonWriter json)
    {
        json.WriteString("brain", Name);
        Upstream?.Write(json);
        if (Weights is not null)
        {
            json.WriteString("weights", Weights);
        }

        if (Adapter is not null)
        {
            json.WriteString("adapter", Adapter);
        }

        if (Template is not null)
        {
            json.WriteString("template", Template);
        }
    }

    internal static BrainRef Read(EntryMembers entry) => new(
        entry.String("brain"),
        entry.OptionalString("weights"),
        entry.OptionalString("adapter"),
        entry.OptionalObject("upstream") is { } upstream ? UpstreamRef.Read(upstream) : null,
        entry.OptionalString("template"));

    /// <summary>A brain entry's reference, which must pin something: weights, or an upstream.</summary>
    internal static BrainRef ReadPinned(EntryMembers entry)
    {
        var brain = Read(entry);
        return brain.Weights is null && brain.Upstream is null ? throw entry.Invalid("names neither 'weights' nor an 'upstream'") : brain;
    }
}

/// <summary>The <c>tokens</c> member of an <c>inference</c> entry.</summary>
/// <param name="Prompt">Tokens read.</param>
/// <param name="Completion">Tokens generated.</param>
public sealed record TokenCounts(int Prompt, int Completion);

/// <summary>The <c>tools</c> member of an <c>inference</c> entry: how many tools were offered and the names of those called (never the arguments).</summary>
/// <param name="Offered">Tools the request offered.</param>
/// <param name="Called">Names of the tools the answer called, in call order (a name repeats for repeated calls).</param>
public sealed record ToolUse(int Offered, IReadOnlyList<string> Called);

/// <summary>
/// <c>inference</c>: one request's seal — the brain, the <c>request</c> and <c>response</c> commitments, <c>tokens</c>,
/// how it ended (<c>finish</c>, HTTP <c>status</c>), whether it streamed (and the index of its <c>inference.begin</c>),
/// the door (<c>api</c>), and how many refusals of the same key were <c>folded</c> into it.
/// </summary>
/// <param name="Actor">The key the request came with, <c>key:&lt;id&gt;</c>.</param>
/// <param name="Brain">The brain that answered, or null when the request was refused before one was chosen.</param>
/// <param name="Request">The request commitment, or null when the body was never read in full.</param>
/// <param name="Response">The response commitment.</param>
/// <param name="Tokens">The token counts, when the engine reported them.</param>
/// <param name="Finish"><c>stop</c>, <c>length</c>, <c>error</c> or <c>cancelled</c>.</param>
/// <param name="Stream">Whether the answer was streamed.</param>
/// <param name="Begin">The index of the stream's <c>inference.begin</c> entry.</param>
/// <param name="Api">The door the request came through (<c>chat.completions</c>, ...).</param>
/// <param name="Status">The HTTP status answered.</param>
/// <param name="Folded">Refusals answered but not sealed on their own since the key's last sealed one; 0 is not written.</param>
/// <param name="Tools">When the request offered tools: how many, and which were called; null (not written) otherwise.</param>
public sealed record InferenceEntry(
    string Actor, BrainRef? Brain, string? Request, string Response, TokenCounts? Tokens, string Finish, bool Stream, long? Begin, string Api, int Status, int Folded = 0,
    ToolUse? Tools = null)
    : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.Inference;

    /// <summary>Parses an <c>inference</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<InferenceEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.Inference, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<InferenceEntry>? read) => TryReadAs(entry, EntryTypes.Inference, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        Brain?.Write(json);
        if (Request is not null)
        {
            json.WriteString("request", Request);
        }

        json.WriteString("response", Response);
        if (Tokens is { } tokens)
        {
            json.WriteStartObject("tokens");
            json.WriteNumber("prompt", tokens.Prompt);
            json.WriteNumber("completion", tokens.Completion);
            json.WriteEndObject();
        }

        json.WriteString("finish", Finish);
        json.WriteBoolean("stream", Stream);
        if (Begin is { } begin)
        {
            json.WriteNumber("begin", begin);
        }

        json.WriteString("api", Api);
        json.WriteNumber("status", Status);
        if (Folded > 0)
        {
            json.WriteNumber("folded", Folded);
        }

        if (Tools is { } tools)
        {
            json.WriteStartObject("tools");
            json.WriteNumber("offered", tools.Offered);
            json.WriteStartArray("called");
            foreach (var name in tools.Called)
            {
                json.WriteStringValue(name);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }
    }

    private static InferenceEntry Body(LogEntry header, EntryMembers m) => new(
        header.Actor,
        m.Has("brain") ? BrainRef.Read(m) : null,
        m.OptionalString("request"),
        m.String("response"),
        m.OptionalObject("tokens") is { } tokens ? new TokenCounts(tokens.Int32("prompt"), tokens.Int32("completion")) : null,
        m.String("finish"),
        m.Boolean("stream"),
        m.OptionalInt64("begin"),
        m.String("api"),
        m.Int32("status"),
        m.OptionalInt32("folded") ?? 0,
        m.OptionalObject("tools") is { } tools ? new ToolUse(tools.Int32("offered"), tools.Strings("called")) : null);
}

/// <summary><c>inference.begin</c>: a stream's brain and request commitment, sealed before its first byte is sent.</summary>
/// <param name="Actor">The key the request came with.</param>
/// <param name="Brain">The brain that answers.</param>
/// <param name="Request">The request commitment.</param>
/// <param name="Api">The door the request came through.</param>
public sealed record InferenceBeginEntry(string Actor, BrainRef? Brain, string Request, string Api) : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.InferenceBegin;

    /// <summary>Parses an <c>inference.begin</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<InferenceBeginEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.InferenceBegin, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<InferenceBeginEntry>? read) => TryReadAs(entry, EntryTypes.InferenceBegin, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        Brain?.Write(json);
        json.WriteString("request", Request);

        // Only streams have a begin entry; the member says so to a reader that sees this entry alone.
        json.WriteBoolean("stream", true);
        json.WriteString("api", Api);
    }

    private static InferenceBeginEntry Body(LogEntry header, EntryMembers m) =>
        new(header.Actor, m.Has("brain") ? BrainRef.Read(m) : null, m.String("request"), m.String("api"));
}

/// <summary>
/// <c>inference.interrupted</c>: a request the last run never finished, from the note it left (<c>inference</c>, the
/// id its entry would have had; <c>api</c>, <c>brain</c>, <c>request</c>, <c>started</c>), or <c>note</c> =
/// <c>unreadable</c> when the note could not be read; and the <c>reason</c>.
/// </summary>
/// <param name="Actor">The key the note names, or <c>system</c> when it names none.</param>
/// <param name="Inference">The id of the <c>inference</c> entry the request would have had.</param>
/// <param name="Api">The door.</param>
/// <param name="Brain">The brain's name.</param>
/// <param name="Request">The request commitment.</param>
/// <param name="Started">When the request reached its brain (RFC 3339, as the note has it).</param>
/// <param name="Note"><c>unreadable</c> when the note could not be read, else null.</param>
/// <param name="Reason">Why the entry is sealed.</param>
public sealed record InferenceInterruptedEntry(
    string Actor, string? Inference, string? Api, string? Brain, string? Request, string? Started, string? Note, string Reason)
    : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.InferenceInterrupted;

    /// <summary>Parses an <c>inference.interrupted</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<InferenceInterruptedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.InferenceInterrupted, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<InferenceInterruptedEntry>? read) => TryReadAs(entry, EntryTypes.InferenceInterrupted, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        WriteOptional(json, "inference", Inference);
        WriteOptional(json, "api", Api);
        WriteOptional(json, "brain", Brain);
        WriteOptional(json, "request", Request);
        WriteOptional(json, "started", Started);
        WriteOptional(json, "note", Note);
        json.WriteString("reason", Reason);
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static InferenceInterruptedEntry Body(LogEntry header, EntryMembers m) => new(
        header.Actor, m.OptionalString("inference"), m.OptionalString("api"), m.OptionalString("brain"), m.OptionalString("request"),
        m.OptionalString("started"), m.OptionalString("note"), m.String("reason"));
}
