using System.Text;
using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Sios.Brains.Registry;
using Sios.Ledger.Entries;
using Sios.Server.Tests.Access;
using Sios.Server.Vault;
using Sios.Verify.Entries;

namespace Sios.Server.Tests.Vault;

public sealed class ContentVaultTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private readonly TempFolder _temp = new();
    private readonly FixedClock _clock = new(Start);
    private readonly byte[] _key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    public void Dispose() => _temp.Dispose();

    private string Folder => _temp.File("vault");

    private ContentVault Vault(int retentionDays = 30, byte[]? key = null) => new(Folder, key ?? _key, retentionDays, _clock);

    private static string Id(TimeProvider clock) => EntryJson.NewId(clock);

    private string FileOf(string id) => Path.Combine(Folder, id + ".vault");

    [Fact]
    public void Kept_bytes_come_back_exactly_with_the_time_they_were_kept()
    {
        using var vault = Vault();
        var id = Id(_clock);
        Assert.True(vault.Keep(id, "{\"model\":\"x\"}"u8, "data: {}\n\n"u8));
        var content = vault.Read(id)!;
        Assert.Equal(id, content.EntryId);
        Assert.Equal(Start, content.KeptAt);
        Assert.Equal("{\"model\":\"x\"}"u8.ToArray(), content.Request);
        Assert.Equal("data: {}\n\n"u8.ToArray(), content.Response);
        // The content is encrypted at rest: neither body appears in the file.
        var file = File.ReadAllText(FileOf(id));
        Assert.DoesNotContain("model", file, StringComparison.Ordinal);
        Assert.DoesNotContain("data:", file, StringComparison.Ordinal);
    }

    [Fact]
    public void Any_request_and_response_round_trip()
    {
        using var vault = Vault();
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Byte.Array[0, 300]).Sample((request, response) =>
        {
            var id = Guid.NewGuid().ToString("D");
            vault.Keep(id, request, response);
            var content = vault.Read(id)!;
            return content.Request.AsSpan().SequenceEqual(request) && content.Response.AsSpan().SequenceEqual(response);
        }, iter: 40);
    }

    [Fact]
    public void A_retention_of_zero_keeps_nothing()
    {
        using var vault = Vault(retentionDays: 0);
        var id = Id(_clock);
        Assert.False(vault.IsKeeping);
        Assert.False(vault.Keep(id, "a"u8, "b"u8));
        Assert.Null(vault.Read(id));
        Assert.False(Directory.Exists(Folder));
    }

    [Fact]
    public void Content_never_kept_reads_as_null()
    {
        using var vault = Vault();
        Assert.Null(vault.Read(Id(_clock)));
    }

    [Theory]
    [InlineData(0)] // magic
    [InlineData(9)] // kept-at time
    [InlineData(18)] // GCM nonce
    [InlineData(30)] // tag
    [InlineData(60)] // ciphertext
    public void A_file_altered_in_any_byte_is_refused(int offset)
    {
        using var vault = Vault();
        var id = Id(_clock);
        vault.Keep(id, "the request body"u8, "the response body"u8);
        var bytes = File.ReadAllBytes(FileOf(id));
        bytes[offset] ^= 0x01;
        File.WriteAllBytes(FileOf(id), bytes);
        Assert.Throws<VaultException>(() => vault.Read(id));
    }

    [Fact]
    public void A_truncated_file_is_refused()
    {
        using var vault = Vault();
        var id = Id(_clock);
        vault.Keep(id, "request"u8, "response"u8);
        var bytes = File.ReadAllBytes(FileOf(id));
        File.WriteAllBytes(FileOf(id), bytes[..^1]);
        Assert.Throws<VaultException>(() => vault.Read(id));
        File.WriteAllBytes(FileOf(id), bytes[..20]);
        Assert.Throws<VaultException>(() => vault.Read(id));
    }

    [Fact]
    public void A_file_moved_to_another_entry_is_refused()
    {
        using var vault = Vault();
        var first = Guid.NewGuid().ToString("D");
        var second = Guid.NewGuid().ToString("D");
        vault.Keep(first, "answer one"u8, "one"u8);
        vault.Keep(second, "answer two"u8, "two"u8);
        File.Copy(FileOf(first), FileOf(second), overwrite: true);
        Assert.Throws<VaultException>(() => vault.Read(second));
        Assert.Equal("answer one"u8.ToArray(), vault.Read(first)!.Request);
    }

    [Fact]
    public void A_vault_under_another_key_cannot_read_it()
    {
        var id = Id(_clock);
        using (var vault = Vault())
        {
            vault.Keep(id, "request"u8, "response"u8);
        }

        var other = (byte[])_key.Clone();
        other[0] ^= 0x80;
        using var stranger = Vault(key: other);
        Assert.Throws<VaultException>(() => stranger.Read(id));
    }

    [Theory]
    [InlineData("../keys/master")]
    [InlineData("not-a-uuid")]
    [InlineData("0190b3a1-7c2e-7000-8000-00000000000/")]
    public void Only_an_entry_id_names_a_file(string id)
    {
        using var vault = Vault();
        Assert.Throws<ArgumentException>(() => vault.Keep(id, "a"u8, "b"u8));
        Assert.Throws<ArgumentException>(() => vault.Read(id));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(ContentVault.MaxRetentionDays + 1)]
    public void An_impossible_retention_is_refused(int days) =>
        Assert.Throws<ArgumentException>(() => new ContentVault(Folder, _key, days, _clock));

    [Fact]
    public async Task A_purge_deletes_only_what_is_past_retention_and_seals_it_without_content()
    {
        using var vault = Vault(retentionDays: 30);
        var old = Id(_clock);
        vault.Keep(old, "old secret request"u8, "old secret response"u8);
        _clock.Now = Start.AddDays(10);
        var recent = Id(_clock);
        vault.Keep(recent, "recent request"u8, "recent response"u8);

        var sealedEntries = new List<byte[]>();
        EntrySealer seal = (entry, _) =>
        {
            sealedEntries.Add(entry);
            return Task.CompletedTask;
        };

        _clock.Now = Start.AddDays(29);
        Assert.Equal(0, (await vault.PurgeAsync(seal)).Count);
        Assert.Empty(sealedEntries);

        _clock.Now = Start.AddDays(31);
        var purge = await vault.PurgeAsync(seal);
        Assert.Equal(1, purge.Count);
        Assert.Equal(Start.AddDays(1), purge.CutOff);
        Assert.Null(vault.Read(old));
        Assert.NotNull(vault.Read(recent));

        var entry = Assert.Single(sealedEntries);
        using var doc = JsonDocument.Parse(entry);
        Assert.Equal("vault.purged", doc.RootElement.GetProperty("type").GetString());
        Assert.Equal("system", doc.RootElement.GetProperty("actor").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal("2026-11-27T10:00:00.000Z", doc.RootElement.GetProperty("before").GetString());
        Assert.Equal(30, doc.RootElement.GetProperty("retention_days").GetInt32());
        Assert.DoesNotContain("secret", Encoding.UTF8.GetString(entry), StringComparison.Ordinal);
        Assert.DoesNotContain(old, Encoding.UTF8.GetString(entry), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_is_deleted_when_the_purge_cannot_be_sealed()
    {
        using var vault = Vault(retentionDays: 1);
        var id = Id(_clock);
        vault.Keep(id, "request"u8, "response"u8);
        _clock.Now = Start.AddDays(2);
        EntrySealer failing = (_, _) => throw new IOException("the disk is full");
        await Assert.ThrowsAsync<IOException>(() => vault.PurgeAsync(failing));
        Assert.NotNull(vault.Read(id));
    }

    [Fact]
    public async Task A_retention_of_zero_purges_content_kept_under_an_earlier_retention()
    {
        var id = Id(_clock);
        using (var keeping = Vault(retentionDays: 7))
        {
            keeping.Keep(id, "request"u8, "response"u8);
        }

        _clock.Now = Start.AddMinutes(1);
        using var vault = Vault(retentionDays: 0);
        var sealedCount = 0;
        var purge = await vault.PurgeAsync((_, _) =>
        {
            sealedCount++;
            return Task.CompletedTask;
        });
        Assert.Equal(1, purge.Count);
        Assert.Equal(1, sealedCount);
        Assert.Null(vault.Read(id));
    }

    [Fact]
    public async Task A_server_start_purges_and_seals_before_anything_else()
    {
        using var vault = Vault(retentionDays: 1);
        vault.Keep(Id(_clock), "request"u8, "response"u8);
        _clock.Now = Start.AddDays(3);
        var types = new List<string>();
        EntrySealer seal = (entry, _) =>
        {
            using var doc = JsonDocument.Parse(entry);
            types.Add(doc.RootElement.GetProperty("type").GetString()!);
            return Task.CompletedTask;
        };

        var janitor = await VaultJanitor.StartAsync(vault, seal, _clock, NullLogger.Instance, CancellationToken.None);
        Assert.Equal(["vault.purged"], types);
        Assert.Empty(vault.Expired());
        await janitor.DisposeAsync();
        Assert.Single(types);
    }

    [Fact]
    public void Files_the_vault_did_not_write_are_never_purged()
    {
        using var vault = Vault(retentionDays: 1);
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Path.Combine(Folder, "notes.vault"), "the operator's own file");
        File.WriteAllText(Path.Combine(Folder, Guid.NewGuid().ToString("D") + ".vault"), "short");
        _clock.Now = Start.AddDays(5);
        Assert.Empty(vault.Expired());
    }
}
