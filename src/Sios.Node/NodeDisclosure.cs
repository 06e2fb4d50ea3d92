using System.Text;
using System.Text.Json;
using Sios.Ledger.Durable;
using Sios.Ledger.Proofs;
using Sios.Server.Vault;
using Sios.Verify.Commitments;
using Sios.Verify.Disclosure;

namespace Sios.Node;

/// <summary>What a disclosure took out of the vault.</summary>
/// <param name="Id">The inference entry's id.</param>
/// <param name="RequestBytes">Bytes of the request body.</param>
/// <param name="ResponseBytes">Bytes of the response.</param>
/// <param name="KeptAt">When the vault kept them.</param>
internal sealed record Disclosed(string Id, int RequestBytes, int ResponseBytes, DateTimeOffset KeptAt);

/// <summary>
/// Provable disclosure: one answer's exact bytes out of the vault, with their nonces, the entry and its receipt, into a
/// folder only the operator can read, for a third party to check against the sealed commitments.
/// </summary>
internal static class NodeDisclosure
{
    /// <summary>Writes the disclosure of entry <paramref name="index"/> into the empty (or new) folder <paramref name="target"/>.</summary>
    public static async Task<Disclosed> DiscloseAsync(DataFolder folder, string passphrase, long index, string target, CancellationToken ct)
    {
        byte[] entry;
        byte[] receipt;
        await using (var store = folder.OpenReader())
        {
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false);
            var entries = index < (latest?.Size ?? 0) ? await store.ReadEntriesAsync(index, 1, ct).ConfigureAwait(false) : [];
            if (entries.Count != 1)
            {
                throw new NodeException($"entry {index} is not in the log (the latest checkpoint covers {latest?.Size ?? 0} entries)");
            }

            entry = entries[0];
            receipt = await LogProofs.ReceiptAsync(store, index, latest!, ct).ConfigureAwait(false);
        }

        var (id, requestCommitment, responseCommitment) = Commitments(index, entry);
        VaultContent? content;
        byte[] requestNonce;
        byte[] responseNonce;
        using (var master = folder.LoadMasterSecret(passphrase))
        {
            var secret = master.DeriveKey(Sios.Signing.MasterSecret.CommitmentNoncePurpose);
            requestNonce = Commitment.DeriveNonce(secret, id, "request");
            responseNonce = Commitment.DeriveNonce(secret, id, "response");
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
            using var vault = folder.OpenVault(master);
            try
            {
                content = vault.Read(id);
            }
            catch (VaultException e)
            {
                throw new NodeException($"refusing to disclose entry {index}: {e.Message}", NodeFailure.Invalid);
            }
        }

        if (content is null)
        {
            throw new NodeException($"the content of entry {index} is not in the vault: it was never kept (vaultRetentionDays in sios.json was 0 when it was answered) "
                + $"or it was purged past the retention of {folder.Config.VaultRetentionDays} days (sealed as {ContentVault.PurgedEntryType})");
        }

        if (!Commitment.Matches(requestCommitment, requestNonce, content.Request) || !Commitment.Matches(responseCommitment, responseNonce, content.Response))
        {
            throw new NodeException($"refusing to disclose entry {index}: the vault's content does not match the entry's sealed commitments", NodeFailure.Invalid);
        }

        // Plaintext of one answer: the folder is the operator's alone (0700, an empty one given is narrowed to it)
        // and each file 0600; handing it to the third party is a deliberate act, not a side effect of umask.
        DurableFile.CreateDirectory(target);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Write(target, DisclosedContent.RequestFile, content.Request);
        Write(target, DisclosedContent.ResponseFile, content.Response);
        Write(target, DisclosedContent.RequestNonceFile, Encoding.ASCII.GetBytes(Convert.ToBase64String(requestNonce) + "\n"));
        Write(target, DisclosedContent.ResponseNonceFile, Encoding.ASCII.GetBytes(Convert.ToBase64String(responseNonce) + "\n"));
        Write(target, DisclosedContent.EntryFile, entry);
        Write(target, DisclosedContent.ReceiptFile, receipt);
        return new Disclosed(id, content.Request.Length, content.Response.Length, content.KeptAt);
    }

    /// <summary>Creates one file of a disclosure, readable by its owner only; the folder was empty, so a name taken means someone else is writing there.</summary>
    private static void Write(string folder, string name, byte[] content)
    {
        if (!DurableFile.TryCreate(Path.Combine(folder, name), content))
        {
            throw new NodeException($"{Path.Combine(folder, name)} appeared while the disclosure was being written; choose another --out folder");
        }
    }

    private static (string Id, string Request, string Response) Commitments(long index, byte[] entry)
    {
        using var doc = JsonDocument.Parse(entry);
        var root = doc.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "inference")
        {
            throw new NodeException($"entry {index} is a '{type}' entry, not an 'inference' entry: only answers have content to disclose");
        }

        var id = root.GetProperty("id").GetString()!;
        if (!root.TryGetProperty("request", out var request) || !root.TryGetProperty("response", out var response))
        {
            throw new NodeException($"entry {index} commits to no request body (the request was refused before its body was read): there is nothing to disclose");
        }

        return (id, request.GetString()!, response.GetString()!);
    }
}
