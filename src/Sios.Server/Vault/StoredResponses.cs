using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sios.Server.Vault;

/// <summary>
/// The Responses API's stored responses (<c>store: true</c>). Their content is the vault's own copy of the sealed
/// exchange (request and response bytes, encrypted, under the operator's retention); what this adds is who may read
/// it back: one small record per stored response (a file <c>responses/&lt;entry id&gt;.owner</c>, or a shared store's row),
/// holding the owner key's id
/// and an HMAC over the entry id and that key id under a key of its own, so a local user who can write the data
/// folder but holds no secret cannot hand a response to another key. Deleting a stored response removes only this
/// claim: the exchange stays in the vault for the operator's disclosure until its retention ends, like every answer.
/// </summary>
internal sealed class StoredResponses(ContentVault vault, byte[] key)
{
    private const int MacSize = 32;

    /// <summary>Whether responses can be stored at all (the vault keeps content).</summary>
    public bool IsStoring => vault.IsKeeping;

    /// <summary>The vault's retention in days, for messages.</summary>
    public int RetentionDays => vault.RetentionDays;

    /// <summary>Marks the kept exchange <paramref name="entryId"/> as a stored response of <paramref name="keyId"/>.</summary>
    public void Claim(string entryId, string keyId)
    {
        var name = Name(entryId);
        var owner = Encoding.UTF8.GetBytes(keyId);
        vault.Claims.Put(name, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), [.. Mac(name, owner), .. owner]);
    }

    /// <summary>
    /// The kept exchange of the stored response <paramref name="entryId"/> when <paramref name="keyId"/> owns it, else
    /// null (never stored, deleted, purged, another key's, or a claim that does not authenticate: all alike to the caller).
    /// </summary>
    public VaultContent? Read(string entryId, string keyId)
    {
        if (!Owns(entryId, keyId))
        {
            return null;
        }

        var content = vault.Read(entryId);
        if (content is null)
        {
            // Purged past its retention: the claim outlived what it pointed at.
            Forget(entryId);
        }

        return content;
    }

    /// <summary>Removes the claim of <paramref name="keyId"/> on <paramref name="entryId"/>; false when it had none.</summary>
    public bool Delete(string entryId, string keyId)
    {
        if (!Owns(entryId, keyId))
        {
            return false;
        }

        Forget(entryId);
        return true;
    }

    private bool Owns(string entryId, string keyId)
    {
        if (!Guid.TryParseExact(entryId, "D", out _))
        {
            return false;
        }

        var name = Name(entryId);
        if (vault.Claims.Read(name) is not { } file)
        {
            return false;
        }

        var owner = Encoding.UTF8.GetBytes(keyId);
        return file.Length == MacSize + owner.Length
            && CryptographicOperations.FixedTimeEquals(file.AsSpan(0, MacSize), Mac(name, owner))
            && file.AsSpan(MacSize).SequenceEqual(owner);
    }

    private void Forget(string entryId)
    {
        try
        {
            vault.Claims.Delete(Name(entryId));
        }
        catch (IOException)
        {
            // A claim that cannot be removed now points at nothing readable, or is removed on the next try.
        }
    }

    private byte[] Mac(string name, byte[] owner) => HMACSHA256.HashData(key, (byte[])[.. Encoding.ASCII.GetBytes(name + ":"), .. owner]);

    // Only a canonical UUID names a file, so no id a client sends can reach outside the folder.
    private static string Name(string entryId) => Guid.ParseExact(entryId, "D").ToString("D", CultureInfo.InvariantCulture);
}
