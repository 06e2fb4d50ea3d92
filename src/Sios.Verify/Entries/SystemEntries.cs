using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary><c>config.changed</c>: the configuration's digest, and the previous start's, when they differ.</summary>
/// <param name="Sha256">The canonical configuration's digest now.</param>
/// <param name="Previous">The digest the previous start ran with.</param>
public sealed record ConfigChangedEntry(string Sha256, string Previous) : TypedEntry(EntryActors.Operator)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.ConfigChanged;

    /// <summary>Parses a <c>config.changed</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<ConfigChangedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.ConfigChanged, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<ConfigChangedEntry>? read) => TryReadAs(entry, EntryTypes.ConfigChanged, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("sha256", Sha256);
        json.WriteString("previous", Previous);
    }

    private static ConfigChangedEntry Body(LogEntry header, EntryMembers m) => new(m.String("sha256"), m.String("previous")) { Actor = header.Actor };
}

/// <summary>What <c>system.started</c> and <c>system.stopped</c> say of the gateway.</summary>
/// <param name="Version">The software's version.</param>
/// <param name="Config">The configuration's digest.</param>
/// <param name="Egress">The egress policy, as the gateway describes it.</param>
/// <param name="Listen">The addresses it listens on.</param>
public sealed record GatewayFacts(string Version, string Config, string Egress, IReadOnlyList<string> Listen)
{
    /// <summary>The witness policy in force (<c>sha256:&lt;hex&gt;</c> of the policy file), or null when there is none.</summary>
    public string? WitnessPolicy { get; init; }

    /// <summary>
    /// Which node of a log that several nodes serve (a shared store) this is, as <c>HOST:ID</c>, or null for a log with one
    /// node: the record then says which node started, stopped and sealed what.
    /// </summary>
    public string? Node { get; init; }

    internal void Write(Utf8JsonWriter json)
    {
        json.WriteString("version", Version);
        json.WriteString("config", Config);
        json.WriteString("egress", Egress);
        WriteStrings(json, "listen", Listen);
        if (WitnessPolicy is not null)
        {
            json.WriteString("witness_policy", WitnessPolicy);
        }

        if (Node is not null)
        {
            json.WriteString("node", Node);
        }
    }

    internal static GatewayFacts Read(EntryMembers m) =>
        new(m.String("version"), m.String("config"), m.String("egress"), m.Strings("listen")) { WitnessPolicy = m.OptionalString("witness_policy"), Node = m.OptionalString("node") };

    internal static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}

/// <summary><c>system.started</c>: the gateway serves from now on.</summary>
/// <param name="Gateway">Its version, configuration, egress policy and addresses.</param>
public sealed record SystemStartedEntry(GatewayFacts Gateway) : TypedEntry(EntryActors.System)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.SystemStarted;

    /// <summary>Parses a <c>system.started</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<SystemStartedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.SystemStarted, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<SystemStartedEntry>? read) => TryReadAs(entry, EntryTypes.SystemStarted, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => Gateway.Write(json);

    private static SystemStartedEntry Body(LogEntry header, EntryMembers m) => new(GatewayFacts.Read(m)) { Actor = header.Actor };
}

/// <summary><c>system.stopped</c>: the gateway stopped, after its in-flight requests.</summary>
/// <param name="Gateway">Its version, configuration, egress policy and addresses.</param>
public sealed record SystemStoppedEntry(GatewayFacts Gateway) : TypedEntry(EntryActors.System)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.SystemStopped;

    /// <summary>Parses a <c>system.stopped</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<SystemStoppedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.SystemStopped, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<SystemStoppedEntry>? read) => TryReadAs(entry, EntryTypes.SystemStopped, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => Gateway.Write(json);

    private static SystemStoppedEntry Body(LogEntry header, EntryMembers m) => new(GatewayFacts.Read(m)) { Actor = header.Actor };
}

/// <summary><c>operator.note</c>: free text from the operator.</summary>
/// <param name="Text">The note.</param>
public sealed record OperatorNoteEntry(string Text) : TypedEntry(EntryActors.Operator)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.OperatorNote;

    /// <summary>Parses an <c>operator.note</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<OperatorNoteEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.OperatorNote, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<OperatorNoteEntry>? read) => TryReadAs(entry, EntryTypes.OperatorNote, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => json.WriteString("text", Text);

    private static OperatorNoteEntry Body(LogEntry header, EntryMembers m) => new(m.String("text")) { Actor = header.Actor };
}

/// <summary>
/// <c>egress.refused</c>: a connection the egress allow-list refused — the destination, the addresses it resolved to,
/// and how many refusals for it since its last entry were folded into this one (<c>suppressed</c>).
/// </summary>
/// <param name="Host">The host asked for.</param>
/// <param name="Port">The port asked for.</param>
/// <param name="Addresses">The addresses it resolved to.</param>
/// <param name="Suppressed">Refusals for this destination not sealed on their own since its last entry.</param>
public sealed record EgressRefusedEntry(string Host, int Port, IReadOnlyList<string> Addresses, int Suppressed) : TypedEntry(EntryActors.System)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.EgressRefused;

    /// <summary>Parses an <c>egress.refused</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<EgressRefusedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.EgressRefused, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<EgressRefusedEntry>? read) => TryReadAs(entry, EntryTypes.EgressRefused, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("host", Host);
        json.WriteNumber("port", Port);
        GatewayFacts.WriteStrings(json, "addresses", Addresses);
        json.WriteNumber("suppressed", Suppressed);
    }

    private static EgressRefusedEntry Body(LogEntry header, EntryMembers m) =>
        new(m.String("host"), m.Int32("port"), m.Strings("addresses"), m.Int32("suppressed")) { Actor = header.Actor };
}

/// <summary><c>vault.purged</c>: how many kept contents were deleted, kept before which time, under which retention.</summary>
/// <param name="Count">How many were deleted.</param>
/// <param name="Before">The cut-off: content kept before it was deleted.</param>
/// <param name="RetentionDays">The retention in force.</param>
public sealed record VaultPurgedEntry(int Count, DateTimeOffset Before, int RetentionDays) : TypedEntry(EntryActors.System)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.VaultPurged;

    /// <summary>Parses a <c>vault.purged</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<VaultPurgedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.VaultPurged, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<VaultPurgedEntry>? read) => TryReadAs(entry, EntryTypes.VaultPurged, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteNumber("count", Count);
        json.WriteString("before", EntryJson.FormatTime(Before));
        json.WriteNumber("retention_days", RetentionDays);
    }

    private static VaultPurgedEntry Body(LogEntry header, EntryMembers m)
    {
        var before = m.String("before");
        return EntryJson.TryParseTime(before, out var time)
            ? new VaultPurgedEntry(m.Int32("count"), time, m.Int32("retention_days")) { Actor = header.Actor }
            : throw m.Invalid($"has the cut-off '{before}', which is not RFC 3339 UTC with milliseconds");
    }
}
