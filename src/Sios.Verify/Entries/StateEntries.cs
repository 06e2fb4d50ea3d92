using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sios.Verify.Entries;

/// <summary>
/// <c>state.refused</c>: a state file beside the log (<c>api-keys</c>, <c>brains</c>) refused — its MAC fails, or it
/// lags the log and was corrected from it — and why.
/// </summary>
/// <param name="File">The file's kind.</param>
/// <param name="Reason">Why it was refused or corrected.</param>
public sealed record StateRefusedEntry(string File, string Reason) : TypedEntry(EntryActors.System)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.StateRefused;

    /// <summary>Parses a <c>state.refused</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<StateRefusedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.StateRefused, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<StateRefusedEntry>? read) => TryReadAs(entry, EntryTypes.StateRefused, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("file", File);
        json.WriteString("reason", Reason);
    }

    private static StateRefusedEntry Body(LogEntry header, EntryMembers m) => new(m.String("file"), m.String("reason")) { Actor = header.Actor };
}

/// <summary><c>state.adopted</c>: a state file the operator took as it stands: how many items, and its digest.</summary>
/// <param name="File">The file's kind.</param>
/// <param name="Items">How many keys or brains it holds.</param>
/// <param name="Sha256">The adopted content's digest.</param>
public sealed record StateAdoptedEntry(string File, int Items, string Sha256) : TypedEntry(EntryActors.Operator)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.StateAdopted;

    /// <summary>Parses a <c>state.adopted</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<StateAdoptedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.StateAdopted, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<StateAdoptedEntry>? read) => TryReadAs(entry, EntryTypes.StateAdopted, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("file", File);
        json.WriteNumber("items", Items);
        json.WriteString("sha256", Sha256);
    }

    private static StateAdoptedEntry Body(LogEntry header, EntryMembers m) =>
        new(m.String("file"), m.Int32("items"), m.String("sha256")) { Actor = header.Actor };
}

/// <summary>
/// <c>log.tail.discarded</c>: entries past the last signed checkpoint that this log did not write, removed by the
/// operator and kept aside: the first index, how many, the SHA-256 (hex) of the file keeping them, and why.
/// </summary>
/// <param name="From">The first removed index.</param>
/// <param name="Count">How many entries were removed.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the entry bundle they were kept in.</param>
/// <param name="Reason">Why they were removed.</param>
public sealed record LogTailDiscardedEntry(long From, long Count, string Sha256, string Reason) : TypedEntry(EntryActors.Operator)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.LogTailDiscarded;

    /// <summary>Parses a <c>log.tail.discarded</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<LogTailDiscardedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.LogTailDiscarded, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<LogTailDiscardedEntry>? read) => TryReadAs(entry, EntryTypes.LogTailDiscarded, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteNumber("from", From);
        json.WriteNumber("count", Count);
        json.WriteString("sha256", Sha256);
        json.WriteString("reason", Reason);
    }

    private static LogTailDiscardedEntry Body(LogEntry header, EntryMembers m) =>
        new(m.Int64("from"), m.Int64("count"), m.String("sha256"), m.String("reason")) { Actor = header.Actor };
}

/// <summary>
/// <c>log.guard.missing</c>: a non-empty log opened without its rollback guard file, which cannot be told from a
/// rollback made consistent by removing it too: the log's size then, and the file.
/// </summary>
/// <param name="Size">The log's size when the file was found missing.</param>
/// <param name="File">The guard file, relative to the data folder.</param>
public sealed record LogGuardMissingEntry(long Size, string File) : TypedEntry(EntryActors.System)
{
    /// <inheritdoc/>
    public override string EntryType => EntryTypes.LogGuardMissing;

    /// <summary>Parses a <c>log.guard.missing</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<LogGuardMissingEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.LogGuardMissing, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<LogGuardMissingEntry>? read) => TryReadAs(entry, EntryTypes.LogGuardMissing, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteNumber("size", Size);
        json.WriteString("file", File);
    }

    private static LogGuardMissingEntry Body(LogEntry header, EntryMembers m) => new(m.Int64("size"), m.String("file")) { Actor = header.Actor };
}

/// <summary>
/// <c>witness.refused</c>: a witness that refused a checkpoint: its name, the HTTP status, the size it holds, the size
/// of the checkpoint it refused and its reason.
/// </summary>
/// <param name="Witness">The witness's name (its key name).</param>
/// <param name="Status">The HTTP status it answered.</param>
/// <param name="Size">The tree size the witness says it holds (tlog-witness 409), or null when it said none.</param>
public sealed record WitnessRefusedEntry(string Witness, int Status, long? Size) : TypedEntry(EntryActors.System)
{
    /// <summary>The size of the checkpoint the log submitted, when recorded.</summary>
    public long? Checkpoint { get; init; }

    /// <summary>The witness's own words (its response body's first line, cut short), or what the log concluded.</summary>
    public string? Reason { get; init; }

    /// <inheritdoc/>
    public override string EntryType => EntryTypes.WitnessRefused;

    /// <summary>Parses a <c>witness.refused</c> entry; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<WitnessRefusedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, EntryTypes.WitnessRefused, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<WitnessRefusedEntry>? read) => TryReadAs(entry, EntryTypes.WitnessRefused, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json)
    {
        json.WriteString("witness", Witness);
        json.WriteNumber("status", Status);
        if (Size is { } size)
        {
            json.WriteNumber("size", size);
        }

        if (Checkpoint is { } checkpoint)
        {
            json.WriteNumber("checkpoint", checkpoint);
        }

        if (Reason is not null)
        {
            json.WriteString("reason", Reason);
        }
    }

    private static WitnessRefusedEntry Body(LogEntry header, EntryMembers m) =>
        new(m.String("witness"), m.Int32("status"), m.OptionalInt64("size"))
        {
            Actor = header.Actor,
            Checkpoint = m.OptionalInt64("checkpoint"),
            Reason = m.OptionalString("reason"),
        };
}
