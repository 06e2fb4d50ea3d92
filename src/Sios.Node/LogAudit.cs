using System.Text.Json;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;

namespace Sios.Node;

/// <summary>The whole-log audit behind <c>sios log verify</c>.</summary>
internal static class LogAudit
{
    public static async Task<(string Report, bool Intact)> RunAsync(ILogReader store, SignerKeyChain chain, IReadOnlyList<VerifierKey> currentKeys, CancellationToken ct, string? publishedCheckpoint = null, byte[]? tailKey = null, Func<string?>? stateProblem = null)
    {
        var claims = new List<RootClaim>();
        long checkpoints = 0;
        var previous = StoredCheckpoint.First;
        await foreach (var stored in store.ReadCheckpointsAsync(0, ct).ConfigureAwait(false))
        {
            checkpoints++;
            VerifiedCheckpoint verified;
            try
            {
                // A note that does not even parse is a bad checkpoint, not a bad rotation.
                SignedNote.Parse(stored.Note);
            }
            catch (VerificationException e)
            {
                return Fail($"checkpoint at size {stored.Size} does not verify: {e.Message}", null, $"checkpoint {stored.Size}");
            }

            try
            {
                await RotationHistory.FollowAsync(store, chain, stored, Math.Max(previous, 0), ct).ConfigureAwait(false);
            }
            catch (VerificationException e)
            {
                return Fail($"the signer rotation sealed under the checkpoint at size {stored.Size} is not valid: {e.Message}", null, $"checkpoint {stored.Size}");
            }

            try
            {
                verified = chain.VerifyCheckpoint(stored.Note);
            }
            catch (VerificationException e)
            {
                return Fail($"checkpoint at size {stored.Size} does not verify: {e.Message}", null, $"checkpoint {stored.Size}");
            }

            if (verified.Checkpoint.Size != stored.Size || stored.Size <= previous)
            {
                return Fail($"checkpoint filed at size {stored.Size} says size {verified.Checkpoint.Size} (or is out of order)", null, $"checkpoint {stored.Size}");
            }

            if (stored.Previous is { } link && link != previous)
            {
                var before = previous == StoredCheckpoint.First ? "no checkpoint" : $"the one at size {previous}";
                return link > previous
                    ? Fail($"the checkpoint at size {link} is missing: the one at size {stored.Size} was stored after it, but the history has {before} before it (a deleted checkpoint)", null, $"checkpoint {link}")
                    : Fail($"the checkpoint at size {stored.Size} was stored after size {link}, but the history has {before} before it (the checkpoint history was altered)", null, $"checkpoint {stored.Size}");
            }

            previous = stored.Size;
            claims.Add(new RootClaim(stored.Size, verified.Checkpoint.Root, $"signed checkpoint at size {stored.Size}"));
        }

        if (claims.Count == 0)
        {
            return Fail("the log has no signed checkpoint", null, null);
        }

        // currentKeys holds the Ed25519 key when keys/ has one: a key file no signer.added vouches for is reported too.
        if (!SignerKeyChain.SameKeys(chain.SigningKeys, currentKeys))
        {
            return Fail("the public key files in keys/ are not the keys the log's signer rotations and additions lead to", null, null);
        }

        var size = claims[^1].Size;
        AuditResult result;
        using (var progress = new ProgressBar(size, "entries"))
        {
            result = await new LogAuditor(new StoreLogSource(store)).AuditAsync(size, claims, progress, ct).ConfigureAwait(false);
        }

        if (!result.Intact)
        {
            return Fail(result.Problem!, result.BadIndex, result.BadTile);
        }

        if (publishedCheckpoint is not null && await RollbackGuard.ProblemAsync(publishedCheckpoint, store, size, ct).ConfigureAwait(false) is { } rollback)
        {
            return Fail(rollback.Message, null, $"checkpoint {rollback.PublishedSize}");
        }

        if (publishedCheckpoint is not null && size > 0 && !File.Exists(publishedCheckpoint))
        {
            return Fail($"{publishedCheckpoint} is missing beside a log of {size} entries: every start and stop of the log writes it, so it was removed, and a rollback of the store cannot be ruled out (compare with a copy kept elsewhere: an export, a witness, the receipts clients hold)", null, RollbackGuard.FileName);
        }

        var tail = await LogTail.InspectAsync(store, size, chain.Origin, tailKey, ct).ConfigureAwait(false);
        if (tail.Authenticated == false)
        {
            return Fail(tail.Problem!, size, null, tail);
        }

        if (stateProblem?.Invoke() is { } refused)
        {
            return Fail(refused, null, null);
        }

        if (tail.Count > 0)
        {
            Notice.Write(tail.Authenticated == true
                ? $"note: {tail.Count} entries past the latest checkpoint are not yet signed; their tail seal proves this log wrote them, and its next start signs them"
                : $"note: {tail.Count} entries past the latest checkpoint are not signed; set SIOS_KEY_PASSPHRASE to check that this log wrote them (its next start refuses them if not)");
        }

        Notice.Write($"intact: {result.EntriesChecked} entries, {result.TilesChecked} tiles and {checkpoints} checkpoints agree");
        return (JsonSerializer.Serialize(new AuditReport(true, size, result.EntriesChecked, result.TilesChecked, checkpoints, null, null, null) { UnsignedTail = tail.Count, TailAuthenticated = tail.Authenticated }, AuditReportJson.Default.AuditReport), true);

        (string, bool) Fail(string problem, long? index, string? tile, TailReport? tail = null)
        {
            Notice.Write($"NOT INTACT: {problem}");
            return (JsonSerializer.Serialize(new AuditReport(false, null, null, null, checkpoints, problem, index, tile) { UnsignedTail = tail?.Count, TailAuthenticated = tail?.Authenticated }, AuditReportJson.Default.AuditReport), false);
        }
    }
}

/// <summary>The JSON summary printed by <c>sios log verify</c>.</summary>
internal sealed record AuditReport(bool Intact, long? Size, long? Entries, long? Tiles, long Checkpoints, string? Problem, long? BadIndex, string? BadTile)
{
    /// <summary>Entries stored past the latest signed checkpoint.</summary>
    public long? UnsignedTail { get; init; }

    /// <summary>Whether their tail seal proves this log wrote them; absent when there are none or no key to check with.</summary>
    public bool? TailAuthenticated { get; init; }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(AuditReport))]
internal sealed partial class AuditReportJson : System.Text.Json.Serialization.JsonSerializerContext;
