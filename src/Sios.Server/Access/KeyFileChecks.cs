using Sios.Ledger.State;
using Sios.Verify.Entries;

namespace Sios.Server.Access;

/// <summary>
/// What makes <c>api-keys.json</c> trustworthy: its MAC verifies, and every <c>key.revoked</c> sealed since its
/// <c>as_of</c> shows in it. The first catches a key added by hand or a revocation edited away; the second an older
/// copy put back over a revocation. A <c>key.created</c> the file lacks is no threat (a crash between the seal and the
/// write leaves one: that key simply never works), so only what the log took away is required of the file; and where
/// the file lags (a crash between sealing a revocation and storing it, or an older copy), the log wins: the key is
/// treated as revoked, and the lag is reported so that a server seals it.
/// </summary>
internal static class KeyFileChecks
{
    private static readonly HashSet<string> Types = new(StringComparer.Ordinal) { EntryTypes.KeyRevoked };

    /// <summary>The keys to trust: <paramref name="keys"/> with every revocation the log sealed since <c>as_of</c> applied.</summary>
    /// <remarks>
    /// <paramref name="revoking"/> is the key whose revocation the caller has just sealed and is about to store: its lag is
    /// expected, so it is left for the caller to apply, and not reported.
    /// </remarks>
    public static List<ApiKeyRecord> Check(StateFileAuthority authority, StoredKeys stored, IReadOnlyList<ApiKeyRecord> keys, string path, string? revoking = null)
    {
        if (stored.Format == ApiKeyFile.UnauthenticatedFormat)
        {
            throw authority.Refuse(ApiKeyFile.Kind,
                $"{path} predates authenticated key files (format 1), so nothing shows it was not edited: check its keys with 'sios key list', then adopt it once with 'sios state adopt'");
        }

        if (!authority.Verify(ApiKeyFile.Kind, ApiKeyFile.Body(stored), stored.Mac))
        {
            throw authority.Refuse(ApiKeyFile.Kind,
                $"{path} does not carry a valid MAC: it was changed outside sios (a key added by hand, a revocation undone, a limit raised?). " +
                "Restore it from a copy sios wrote, or inspect it and adopt it with 'sios state adopt'");
        }

        var trusted = keys.ToList();
        foreach (var (index, entry) in authority.EntriesSince(stored.AsOf ?? 0, Types))
        {
            if (!KeyRevokedEntry.TryRead(entry, out var revocation))
            {
                continue;
            }

            var id = revocation.Body.Key.KeyId;
            var at = trusted.FindIndex(k => string.Equals(k.Id, id, StringComparison.Ordinal));
            if (at >= 0 && !trusted[at].IsRevoked && !string.Equals(id, revoking, StringComparison.Ordinal))
            {
                var time = revocation.Header.Time;
                trusted[at] = trusted[at] with { Revoked = time < trusted[at].Created ? trusted[at].Created : time };
                authority.Report(ApiKeyFile.Kind,
                    $"{path} has key '{trusted[at].Name}' (id {id}) live, but the log revoked it at index {index} (a crash before the file was written, or an older copy put back): it is treated as revoked");
            }
        }

        return trusted;
    }
}
