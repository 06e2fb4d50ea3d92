using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>A brain's default sampling settings as <c>brain.registered</c> seals them; unset ones are not written.</summary>
/// <param name="Temperature">The default temperature.</param>
/// <param name="TopP">The default nucleus sampling mass.</param>
/// <param name="MaxTokens">The default completion length.</param>
/// <param name="Stop">The stop strings (always written, possibly empty).</param>
/// <param name="Seed">The default seed.</param>
public sealed record SamplingSettings(float? Temperature, float? TopP, int? MaxTokens, IReadOnlyList<string> Stop, uint? Seed)
{
    internal void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject("sampling");
        if (Temperature is { } temperature)
        {
            json.WriteNumber("temperature", temperature);
        }

        if (TopP is { } topP)
        {
            json.WriteNumber("top_p", topP);
        }

        if (MaxTokens is { } maxTokens)
        {
            json.WriteNumber("max_tokens", maxTokens);
        }

        json.WriteStartArray("stop");
        foreach (var stop in Stop)
        {
            json.WriteStringValue(stop);
        }

        json.WriteEndArray();
        if (Seed is { } seed)
        {
            json.WriteNumber("seed", seed);
        }

        json.WriteEndObject();
    }

    internal static SamplingSettings Read(EntryMembers sampling) => new(
        sampling.OptionalSingle("temperature"), sampling.OptionalSingle("top_p"), sampling.OptionalInt32("max_tokens"),
        sampling.Strings("stop"), sampling.OptionalUInt32("seed"));
}

/// <summary>
/// <c>brain.registered</c>: the brain and its pins, then the manifest's non-secret settings. File names, never paths
/// (machine-local detail); the system prompt only as its digest, so it can be proven yet stays the operator's.
/// </summary>
/// <param name="Actor">Who registered it (<c>operator</c>).</param>
/// <param name="Brain">The brain and its pinned digests or upstream.</param>
/// <param name="Description">The one-line description.</param>
/// <param name="ModelFile">The GGUF's file name, or null for an upstream brain.</param>
/// <param name="AdapterFile">The adapter's file name, or null for none.</param>
/// <param name="AdapterScale">The adapter's scale, written with (and only with) an adapter.</param>
/// <param name="SystemPromptSha256">The system prompt's digest, or null for none.</param>
/// <param name="Sampling">The default sampling settings.</param>
/// <param name="ContextSize">The context size, when set.</param>
/// <param name="Threads">The engine threads, when set.</param>
public sealed record BrainRegisteredEntry(
    string Actor, BrainRef Brain, string Description, string? ModelFile, string? AdapterFile, float? AdapterScale,
    string? SystemPromptSha256, SamplingSettings Sampling, int? ContextSize, int? Threads)
    : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.BrainRegistered;

    /// <summary>Parses a <c>brain.registered</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<BrainRegisteredEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.BrainRegistered, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<BrainRegisteredEntry>? read) => TryReadAs(entry, EntryTypes.BrainRegistered, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        Brain.Write(json);
        json.WriteString("description", Description);
        if (ModelFile is not null)
        {
            json.WriteString("model_file", ModelFile);
        }

        if (AdapterFile is not null)
        {
            json.WriteString("adapter_file", AdapterFile);
        }

        if (AdapterScale is { } scale)
        {
            json.WriteNumber("adapter_scale", scale);
        }

        if (SystemPromptSha256 is not null)
        {
            json.WriteString("system_prompt_sha256", SystemPromptSha256);
        }

        Sampling.Write(json);
        if (ContextSize is { } contextSize)
        {
            json.WriteNumber("context_size", contextSize);
        }

        if (Threads is { } threads)
        {
            json.WriteNumber("threads", threads);
        }
    }

    private static BrainRegisteredEntry Body(LogEntry header, EntryMembers m) => new(
        header.Actor, BrainRef.ReadPinned(m), m.String("description"), m.OptionalString("model_file"), m.OptionalString("adapter_file"),
        m.OptionalSingle("adapter_scale"), m.OptionalString("system_prompt_sha256"), SamplingSettings.Read(m.Object("sampling")),
        m.OptionalInt32("context_size"), m.OptionalInt32("threads"));
}

/// <summary><c>brain.removed</c>: the brain and the pins (or upstream) it had.</summary>
/// <param name="Actor">Who removed it (<c>operator</c>).</param>
/// <param name="Brain">The brain and its pins.</param>
public sealed record BrainRemovedEntry(string Actor, BrainRef Brain) : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.BrainRemoved;

    /// <summary>Parses a <c>brain.removed</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<BrainRemovedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.BrainRemoved, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<BrainRemovedEntry>? read) => TryReadAs(entry, EntryTypes.BrainRemoved, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => Brain.Write(json);

    private static BrainRemovedEntry Body(LogEntry header, EntryMembers m) => new(header.Actor, BrainRef.ReadPinned(m));
}

/// <summary><c>brain.loaded</c>: the brain whose weights were just verified and loaded, or whose upstream is now in use.</summary>
/// <param name="Actor">Who loaded it (<c>system</c>).</param>
/// <param name="Brain">The brain and its pins.</param>
public sealed record BrainLoadedEntry(string Actor, BrainRef Brain) : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.BrainLoaded;

    /// <summary>Parses a <c>brain.loaded</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<BrainLoadedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.BrainLoaded, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<BrainLoadedEntry>? read) => TryReadAs(entry, EntryTypes.BrainLoaded, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => Brain.Write(json);

    private static BrainLoadedEntry Body(LogEntry header, EntryMembers m) => new(header.Actor, BrainRef.ReadPinned(m));
}

/// <summary>
/// <c>brain.refused</c>: a brain not loaded because a file does not match its pin: the pinned (<c>expected</c>) and
/// found (<c>actual</c>, absent when the file is gone) digests, and the <c>reason</c>, which names the file.
/// </summary>
/// <param name="Actor">Who tried to load it (<c>system</c>, or <c>operator</c> from the CLI).</param>
/// <param name="Brain">The brain's name.</param>
/// <param name="Expected">The pinned digest.</param>
/// <param name="Actual">The digest found, or null when the file is missing.</param>
/// <param name="Reason">The mismatch, naming the file.</param>
public sealed record BrainRefusedEntry(string Actor, string Brain, string Expected, string? Actual, string Reason) : TypedEntry(Actor)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.BrainRefused;

    /// <summary>Parses a <c>brain.refused</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<BrainRefusedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.BrainRefused, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<BrainRefusedEntry>? read) => TryReadAs(entry, EntryTypes.BrainRefused, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("brain", Brain);
        json.WriteString("expected", Expected);
        if (Actual is not null)
        {
            json.WriteString("actual", Actual);
        }

        json.WriteString("reason", Reason);
    }

    private static BrainRefusedEntry Body(LogEntry header, EntryMembers m) =>
        new(header.Actor, m.String("brain"), m.String("expected"), m.OptionalString("actual"), m.String("reason"));
}
