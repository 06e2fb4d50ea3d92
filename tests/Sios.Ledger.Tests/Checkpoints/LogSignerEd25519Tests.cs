using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;

namespace Sios.Ledger.Tests.Checkpoints;

/// <summary>The optional Ed25519 (0x01) log signature line (SPEC §6): format, order, and what the chain and recovery make of it.</summary>
public sealed class LogSignerEd25519Tests
{
    private const string Origin = "test.example/ed25519";
    private static readonly byte[] Root = SHA256.HashData("root"u8);

    private static MlDsaPrivateKey Key(MlDsaAlgorithm algorithm, byte seed) =>
        MlDsaPrivateKey.FromSeed(algorithm, Enumerable.Range(seed, 32).Select(i => (byte)i).ToArray());

    private static Ed25519PrivateKey Ed25519Key(string pem) => Ed25519PrivateKey.ImportEncryptedPem(pem, "p");

    private static readonly string EdPem = MakeEdPem();

    private static string MakeEdPem()
    {
        using var key = Ed25519PrivateKey.Generate();
        return key.ExportEncryptedPem("p");
    }

    private static LogSigner Pair(byte seed, bool ed25519 = false) =>
        new(Origin, Key(MlDsaAlgorithm.MlDsa65, seed), Key(MlDsaAlgorithm.MlDsa44, (byte)(seed + 1)), ed25519: ed25519 ? Ed25519Key(EdPem) : null);

    private static LogSigner Rotating(byte oldSeed, byte newSeed) =>
        new(Origin, Key(MlDsaAlgorithm.MlDsa65, oldSeed), Key(MlDsaAlgorithm.MlDsa44, (byte)(oldSeed + 1)), Key(MlDsaAlgorithm.MlDsa65, newSeed), Key(MlDsaAlgorithm.MlDsa44, (byte)(newSeed + 1)), ed25519: Ed25519Key(EdPem));

    private static VerifierKey EdVkey()
    {
        using var key = Ed25519Key(EdPem);
        return VerifierKey.Create(Origin, NoteKeyKind.Ed25519, key.PublicKey);
    }

    private static IReadOnlyList<VerifierKey> Keys(byte seed)
    {
        using var signer = Pair(seed);
        return signer.VerifierKeys;
    }

    private static byte[] Note(string text) => Encoding.UTF8.GetBytes($"{{\"v\":1,\"type\":\"operator.note\",\"text\":\"{text}\"}}");

    private static async Task<byte[]> SealAsync(string store, LogSigner signer, byte[] entry)
    {
        await using var log = await TransparencyLog.OpenAsync(MemoryLogStore.Open(store), signer);
        var sealedAt = await log.AppendAsync(entry);
        return await LogProofs.ReceiptAsync(log.Reader, sealedAt.Index, new StoredCheckpoint(sealedAt.Checkpoint.Size, sealedAt.Checkpoint.Note));
    }

    [Fact]
    public void The_third_line_follows_the_post_quantum_ones_and_verifies_under_each_key_and_under_BouncyCastle()
    {
        using var signer = Pair(1, ed25519: true);
        var note = signer.Sign(7, Root);
        var parsed = SignedNote.Parse(note);
        Assert.Equal([signer.PrimaryKey.KeyId, signer.CosignerKey.KeyId, signer.Ed25519Key!.KeyId], parsed.Signatures.Select(s => s.KeyId));
        Assert.All(parsed.Signatures, s => Assert.Equal(Origin, s.KeyName));

        // Key ID per c2sp.org/signed-note: SHA-256(name || 0x0A || 0x01 || 32-byte key)[:4].
        var pk = signer.Ed25519Key.PublicKey;
        var expectedId = SHA256.HashData([.. Encoding.UTF8.GetBytes(Origin), 0x0a, 0x01, .. pk]).AsSpan(0, 4).ToArray();
        Assert.Equal(Convert.ToHexStringLower(expectedId), signer.Ed25519Key.KeyId.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(64, parsed.Signatures[2].Signature.Length);

        var bc = new Ed25519Signer();
        bc.Init(false, new Ed25519PublicKeyParameters(pk));
        bc.BlockUpdate(parsed.TextBytes, 0, parsed.TextBytes.Length);
        Assert.True(bc.VerifySignature(parsed.Signatures[2].Signature), "the Ed25519 line must be a plain Ed25519 signature over the note text");

        foreach (var key in new[] { signer.PrimaryKey, signer.CosignerKey, signer.Ed25519Key })
        {
            new CheckpointVerifier(Origin, [key]).Verify(note);
        }

        new CheckpointVerifier(Origin, [.. signer.VerifierKeys, signer.Ed25519Key]).Verify(note);
        Assert.Equal(2, signer.VerifierKeys.Count);
    }

    [Fact]
    public void A_rotation_signer_keeps_the_ed25519_line_last()
    {
        using var signer = Rotating(1, 40);
        var parsed = SignedNote.Parse(signer.Sign(3, Root));
        Assert.Equal([signer.PrimaryKey.KeyId, signer.CosignerKey.KeyId, signer.SuccessorKeys[0].KeyId, signer.SuccessorKeys[1].KeyId, signer.Ed25519Key!.KeyId],
            parsed.Signatures.Select(s => s.KeyId));
    }

    [Fact]
    public void A_tampered_ed25519_line_fails_for_a_verifier_given_that_key_and_is_ignored_by_one_that_was_not()
    {
        using var signer = Pair(1, ed25519: true);
        var note = WithBadEd25519Line(signer, signer.Sign(7, Root));
        new CheckpointVerifier(Origin, signer.VerifierKeys).Verify(note);
        Assert.Throws<VerificationException>(() => new CheckpointVerifier(Origin, [.. signer.VerifierKeys, signer.Ed25519Key!]).Verify(note));
    }

    [Fact]
    public async Task Rotation_statements_with_the_ed25519_line_verify_with_or_without_that_key()
    {
        var store = "mem-" + Guid.NewGuid().ToString("N");
        _ = await SealAsync(store, Pair(10, ed25519: true), Note("before"));
        var statement = await SealAsync(store, Rotating(10, 50), SignerRotatedEntries.Write(Keys(10), Keys(50)));
        var after = await SealAsync(store, Pair(50, ed25519: true), Note("after"));

        var pqOnly = new SignerKeyChain(Keys(10));
        pqOnly.Follow(statement);
        Assert.Equal(2, pqOnly.ReceiptVerifier().Verify(after).Index);

        var withEd = new SignerKeyChain([.. Keys(10), EdVkey()]);
        Assert.True(SignerKeyChain.SameKeys(Keys(10), withEd.OriginalKeys));
        withEd.Follow(statement);
        Assert.True(SignerKeyChain.SameKeys([.. Keys(50), EdVkey()], withEd.SigningKeys));
        Assert.Equal(2, withEd.ReceiptVerifier().Verify(after).Index);
    }

    [Fact]
    public async Task An_addition_statement_makes_the_line_required_from_its_checkpoint_on()
    {
        var store = "mem-" + Guid.NewGuid().ToString("N");
        var before = await SealAsync(store, Pair(10), Note("before"));
        var statement = await SealAsync(store, Pair(10, ed25519: true), new SignerAddedEntry(EdVkey()).Write());
        var after = await SealAsync(store, Pair(10, ed25519: true), Note("after"));
        var stripped = await SealAsync(store, Pair(10), Note("no ed25519 line"));

        var chain = new SignerKeyChain(Keys(10));
        var added = chain.Add(statement);
        Assert.Equal(2, added.FromSize);
        Assert.Equal(0, chain.ReceiptVerifier().Verify(before).Index);
        Assert.Equal(2, chain.ReceiptVerifier().Verify(after).Index);
        var refused = Assert.Throws<VerificationException>(() => chain.ReceiptVerifier().Verify(stripped));
        Assert.Contains(nameof(NoteKeyKind.Ed25519), refused.Message, StringComparison.Ordinal);
        Assert.Throws<VerificationException>(() => chain.Add(statement));

        // The entry's key must have signed its checkpoint: the same entry under a post-quantum-only checkpoint proves nothing.
        var unsigned = await SealAsync("mem-" + Guid.NewGuid().ToString("N"), Pair(10), new SignerAddedEntry(EdVkey()).Write());
        Assert.Throws<VerificationException>(() => new SignerKeyChain(Keys(10)).Add(unsigned));
    }

    [Fact]
    public async Task Recovery_checks_an_ed25519_line_when_present_and_lets_a_checkpoint_from_before_the_key_through()
    {
        var store = "mem-" + Guid.NewGuid().ToString("N");
        _ = await SealAsync(store, Pair(10), Note("signed before the key existed"));
        await (await TransparencyLog.OpenAsync(MemoryLogStore.Open(store), Pair(10, ed25519: true))).DisposeAsync();

        using var signer = Pair(10, ed25519: true);
        var forged = WithBadEd25519Line(signer, signer.Sign(1, await RootAsync(store)));
        await using (var writer = MemoryLogStore.Open(store))
        {
            await writer.AcquireWriterAsync();
            await writer.WriteCheckpointAsync(new StoredCheckpoint(1, forged));
        }

        var e = await Assert.ThrowsAsync<LogIntegrityException>(async () => await (await TransparencyLog.OpenAsync(MemoryLogStore.Open(store), Pair(10, ed25519: true))).DisposeAsync());
        Assert.Contains("does not verify", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The note with its post-quantum lines intact and its Ed25519 line's signature altered by one bit.</summary>
    private static byte[] WithBadEd25519Line(LogSigner signer, byte[] note)
    {
        var parsed = SignedNote.Parse(note);
        var ed25519 = parsed.Signatures.Single(s => s.KeyId == signer.Ed25519Key!.KeyId);
        var bad = (byte[])ed25519.Signature.Clone();
        bad[5] ^= 1;
        return Encoding.UTF8.GetBytes(parsed.Text + "\n" + string.Concat(parsed.Signatures.Where(s => s != ed25519).Select(s => SignedNote.FormatSignatureLine(s.KeyName, s.KeyId, s.Signature)))
            + SignedNote.FormatSignatureLine(Origin, ed25519.KeyId, bad));
    }

    private static async Task<byte[]> RootAsync(string store)
    {
        var latest = await MemoryLogStore.Open(store).GetLatestCheckpointAsync();
        return Checkpoint.Parse(SignedNote.Parse(latest!.Note).Text).Root;
    }
}
