using System.Security.Cryptography;
using Sios.Verify.Entries;

namespace Sios.Node;

/// <summary>A state file adopted as it stood: its path, how many keys or brains it held, its SHA-256, and the state.adopted entry.</summary>
internal sealed record AdoptedFile(string File, int Items, string Sha256, long Index);

/// <summary>The key and brain files the log vouches for, taken as they stand when the operator says so.</summary>
internal static class StateFiles
{
    /// <summary>
    /// Adopts <c>keys/api-keys.json</c> and <c>brains.json</c> as they stand, unchecked: seals a <c>state.adopted</c> per
    /// file, then rewrites it authenticated. Refused while another process holds the log.
    /// </summary>
    public static async Task<IReadOnlyList<AdoptedFile>> AdoptAsync(DataFolder folder, string passphrase, CancellationToken ct)
    {
        var adopted = new List<AdoptedFile>();
        var log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
        await using (log.ConfigureAwait(false))
        {
            var authority = folder.Authority(log, passphrase);
            if (folder.ApiKeysDocument.Read().Bytes is { } keyBytes)
            {
                var keys = folder.ApiKeys(authority);
                var count = folder.ApiKeys().List().Count;
                var digest = Convert.ToHexStringLower(SHA256.HashData(keyBytes));
                var sealedAt = await log.AppendAsync(new StateAdoptedEntry("api-keys", count, digest).Write(), ct).ConfigureAwait(false);
                keys.Adopt();
                adopted.Add(new AdoptedFile(keys.Location, count, digest, sealedAt.Index));
            }

            if (folder.BrainsDocument.Read().Bytes is { } brainBytes)
            {
                var registry = folder.Brains(authority: authority);
                var count = folder.Brains().List().Count;
                var digest = Convert.ToHexStringLower(SHA256.HashData(brainBytes));
                var sealedAt = await log.AppendAsync(new StateAdoptedEntry("brains", count, digest).Write(), ct).ConfigureAwait(false);
                await registry.AdoptAsync(ct).ConfigureAwait(false);
                adopted.Add(new AdoptedFile(registry.Location, count, digest, sealedAt.Index));
            }
        }

        return adopted;
    }
}
