using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Sios.Verify.Entries;
using Sios.Verify.Notes;

namespace Sios.Verify.Rotation;

/// <summary>
/// <c>signer.added</c>, by the operator: <c>vkey</c>, an Ed25519 (type 0x01) log signing key that signs every checkpoint
/// from the one sealing this entry on, beside the ML-DSA pair (SPEC §6). Part of the entry catalogue
/// (<see cref="EntryTypes"/>); it lives beside <see cref="SignerKeyChain"/>, its one reader.
/// </summary>
/// <param name="Key">The added key.</param>
public sealed record SignerAddedEntry(VerifierKey Key) : TypedEntry(EntryActors.Operator)
{
    /// <summary>The entry type.</summary>
    public const string Type = EntryTypes.SignerAdded;

    /// <inheritdoc/>
    public override string EntryType => Type;

    /// <summary>True when <paramref name="entry"/> is a JSON object whose <c>type</c> is <c>signer.added</c> (cheap pre-check; nothing else is validated).</summary>
    public static bool IsAddition(ReadOnlySpan<byte> entry) => string.Equals(LogEntry.TypeOf(entry), Type, StringComparison.Ordinal);

    /// <summary>Parses a <c>signer.added</c> entry with its header; throws <see cref="FormatViolationException"/> when it is not one.</summary>
    public static LoggedEntry<SignerAddedEntry> Read(ReadOnlySpan<byte> entry) => ReadAs(entry, Type, Body);

    /// <summary>Like <see cref="Read"/>, returning false instead of throwing.</summary>
    public static bool TryRead(ReadOnlySpan<byte> entry, [NotNullWhen(true)] out LoggedEntry<SignerAddedEntry>? read) => TryReadAs(entry, Type, Body, out read);

    private protected override void WriteMembers(Utf8JsonWriter json) => json.WriteString("vkey", Key.ToString());

    private static SignerAddedEntry Body(LogEntry header, EntryMembers m) => new(VerifierKey.Parse(m.String("vkey"))) { Actor = header.Actor };
}
