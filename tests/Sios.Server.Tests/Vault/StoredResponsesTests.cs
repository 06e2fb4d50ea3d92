using Sios.Server.Tests.Access;
using Sios.Server.Vault;
using Sios.Verify.Entries;

namespace Sios.Server.Tests.Vault;

/// <summary>Stored responses are read back by their owner key only, and a local user without the secret cannot hand one to another key.</summary>
public sealed class StoredResponsesTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly byte[] _vaultKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly byte[] _claimKey = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();

    public void Dispose() => _temp.Dispose();

    private (ContentVault Vault, StoredResponses Store) Open(int retentionDays = 30)
    {
        var vault = new ContentVault(_temp.File("vault"), _vaultKey, retentionDays);
        return (vault, new StoredResponses(vault, _claimKey));
    }

    [Fact]
    public void The_owner_reads_its_stored_response_and_no_other_key_does()
    {
        var (vault, store) = Open();
        using (vault)
        {
            var id = EntryJson.NewId(TimeProvider.System);
            vault.Keep(id, "{\"input\":\"q\"}"u8, "{\"output\":[]}"u8);
            Assert.Null(store.Read(id, "alice"));
            store.Claim(id, "alice");
            Assert.Equal("{\"output\":[]}"u8.ToArray(), store.Read(id, "alice")!.Response);
            Assert.Null(store.Read(id, "bob"));
            Assert.False(store.Delete(id, "bob"));
            Assert.True(store.Delete(id, "alice"));
            Assert.Null(store.Read(id, "alice"));

            // Deleting the claim leaves the sealed exchange in the vault for the operator.
            Assert.NotNull(vault.Read(id));
        }
    }

    [Fact]
    public void A_claim_written_without_the_secret_is_refused()
    {
        var (vault, store) = Open();
        using (vault)
        {
            var id = EntryJson.NewId(TimeProvider.System);
            vault.Keep(id, "{}"u8, "{}"u8);
            store.Claim(id, "alice");
            var claim = Directory.GetFiles(Path.Combine(_temp.File("vault"), "responses")).Single();

            // A local user rewrites the claim's key id to its own: the MAC no longer matches.
            var bytes = File.ReadAllBytes(claim);
            File.WriteAllBytes(claim, [.. bytes.AsSpan(0, 32), .. "mallory"u8]);
            Assert.Null(store.Read(id, "mallory"));
            Assert.Null(store.Read(id, "alice"));

            // A claim copied from another response does not name this one.
            var other = EntryJson.NewId(TimeProvider.System);
            vault.Keep(other, "{}"u8, "{}"u8);
            store.Claim(id, "alice");
            File.Copy(claim, Path.Combine(Path.GetDirectoryName(claim)!, other + ".owner"));
            Assert.Null(store.Read(other, "alice"));
        }
    }

    [Theory]
    [InlineData("../../api-keys")]
    [InlineData("not-a-uuid")]
    [InlineData("")]
    public void Ids_that_are_not_entry_ids_find_nothing(string id)
    {
        var (vault, store) = Open();
        using (vault)
        {
            Assert.Null(store.Read(id, "alice"));
            Assert.False(store.Delete(id, "alice"));
        }
    }

    [Fact]
    public void A_vault_that_keeps_nothing_stores_nothing()
    {
        var (vault, store) = Open(retentionDays: 0);
        using (vault)
        {
            Assert.False(store.IsStoring);
        }
    }
}
