using Sios.Ledger.Merkle;
using Sios.Ledger.Storage;
using Sios.Verify;

namespace Sios.Ledger.Pipeline;

/// <summary>
/// The entries a store holds past its last signed checkpoint: what recovery will do with them, told to an auditor
/// before it happens. Shared by recovery (which refuses an unauthenticated tail) and <c>sios log verify</c>.
/// </summary>
public static class LogTail
{
    /// <summary>
    /// Inspects the tail past <paramref name="signedSize"/>: whether one exists, and, when <paramref name="tailKey"/> is
    /// given, whether its seal proves this log wrote it.
    /// </summary>
    public static async Task<TailReport> InspectAsync(ILogReader store, long signedSize, string origin, byte[]? tailKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var stored = await store.GetStoredSizeAsync(ct).ConfigureAwait(false);
        if (stored <= signedSize)
        {
            return new TailReport(signedSize, stored, null, null);
        }

        TreeBuilder builder;
        try
        {
            builder = await TreeBuilder.LoadAsync(signedSize, new StoreLogSource(store), ct).ConfigureAwait(false);
            await LogRecovery.ReplayTailAsync(store, builder, stored, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is VerificationException or LogIntegrityException)
        {
            return new TailReport(signedSize, stored, false, $"the {stored - signedSize} entries past the last signed checkpoint do not match their tiles: {e.Message}");
        }

        if (tailKey is not { } key)
        {
            return new TailReport(signedSize, stored, null, null);
        }

        var seal = await store.ReadTailSealAsync(ct).ConfigureAwait(false);
        return TailSeals.Authenticates(seal, key, origin, stored, builder.Root())
            ? new TailReport(signedSize, stored, true, null)
            : new TailReport(signedSize, stored, false, Unauthenticated(signedSize, stored, seal, keyGiven: true));
    }

    /// <summary>Why a tail of entries [<paramref name="checkpointSize"/>, <paramref name="stored"/>) is refused, and what to do.</summary>
    public static string Unauthenticated(long checkpointSize, long stored, TailSeal? seal, bool keyGiven)
    {
        var why = !keyGiven ? "the log was opened without its tail seal key, so it cannot tell them from forged rows"
            : seal is null ? "no tail seal is stored for them"
            : seal.Size != stored ? $"the stored tail seal is for a tree of {seal.Size} entries"
            : "the stored tail seal does not match the tree they make";
        return $"{stored - checkpointSize} entries (indices {checkpointSize} to {stored - 1}) follow the last signed checkpoint, but this log did not write them ({why}): " +
            "they were added to the store by hand, or damaged; nothing was signed over them. 'sios log verify' shows them; " +
            "'sios log discard-tail' removes them and seals that it did";
    }
}

/// <summary>What a store holds past its last signed checkpoint.</summary>
/// <param name="CheckpointSize">The last signed checkpoint's size.</param>
/// <param name="Stored">The stored size.</param>
/// <param name="Authenticated">True when the tail's seal proves this log wrote it (the next start signs it), false when it does not (the next start refuses it), null when there is no tail or no key to check with.</param>
/// <param name="Problem">Why the tail is refused, when it is.</param>
public sealed record TailReport(long CheckpointSize, long Stored, bool? Authenticated, string? Problem)
{
    /// <summary>Entries past the last signed checkpoint.</summary>
    public long Count => Math.Max(0, Stored - CheckpointSize);
}
