using System.Text;
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
using Sios.Verify.Receipts;
using Sios.Verify.Rotation;

namespace Sios.Ledger.Tests.Checkpoints;

/// <summary>The rotation chain over real logs: what a statement must prove before the chain trusts new keys.</summary>
public sealed class SignerKeyChainTests
{
    private const string Origin = "test.example/rotation";

    private static MlDsaPrivateKey Key(MlDsaAlgorithm algorithm, byte seed) =>
        MlDsaPrivateKey.FromSeed(algorithm, Enumerable.Range(seed, 32).Select(i => (byte)i).ToArray());

    private static LogSigner Pair(byte seed) => new(Origin, Key(MlDsaAlgorithm.MlDsa65, seed), Key(MlDsaAlgorithm.MlDsa44, (byte)(seed + 1)));

    private static LogSigner Rotating(byte oldSeed, byte newSeed) =>
        new(Origin, Key(MlDsaAlgorithm.MlDsa65, oldSeed), Key(MlDsaAlgorithm.MlDsa44, (byte)(oldSeed + 1)), Key(MlDsaAlgorithm.MlDsa65, newSeed), Key(MlDsaAlgorithm.MlDsa44, (byte)(newSeed + 1)));

    private static IReadOnlyList<VerifierKey> Keys(byte seed)
    {
        using var signer = Pair(seed);
        return signer.VerifierKeys;
    }

    private static byte[] Note(string text) => Encoding.UTF8.GetBytes($"{{\"v\":1,\"type\":\"operator.note\",\"text\":\"{text}\"}}");

    /// <summary>Appends <paramref name="entry"/> with <paramref name="signer"/> and returns its receipt under the checkpoint that sealed it.</summary>
    private static async Task<byte[]> SealAsync(string store, LogSigner signer, byte[] entry)
    {
        await using var log = await TransparencyLog.OpenAsync(MemoryLogStore.Open(store), signer);
        var sealedAt = await log.AppendAsync(entry);
        return await LogProofs.ReceiptAsync(log.Reader, sealedAt.Index, new StoredCheckpoint(sealedAt.Checkpoint.Size, sealedAt.Checkpoint.Note));
    }

    /// <summary>The same receipt with its checkpoint signed afresh by <paramref name="signer"/>.</summary>
    private static byte[] ResignedBy(LogSigner signer, byte[] receipt)
    {
        using (signer)
        {
            var proof = TlogProof.Parse(receipt);
            var checkpoint = Checkpoint.Parse(SignedNote.Parse(proof.CheckpointNote).Text);
            return new TlogProof(proof.Extra, proof.Index, proof.InclusionProof, signer.Sign(checkpoint.Size, checkpoint.Root)).ToBytes();
        }
    }

    [Fact]
    public async Task A_statement_signed_by_old_and_new_keys_moves_trust_to_the_new_keys_from_its_checkpoint_on()
    {
        var store = "mem-" + Guid.NewGuid().ToString("N");
        var before = await SealAsync(store, Pair(10), Note("before"));
        var statement = await SealAsync(store, Rotating(10, 50), SignerRotatedEntries.Write(Keys(10), Keys(50)));
        var after = await SealAsync(store, Pair(50), Note("after"));
        var stale = ResignedBy(Pair(10), after);

        var chain = new SignerKeyChain(Keys(10));
        Assert.Throws<VerificationException>(() => chain.ReceiptVerifier().Verify(after));
        var accepted = chain.Follow(statement);
        Assert.Equal(1, accepted.Index);
        Assert.Equal(4, accepted.Checkpoint.Signatures.Count);
        Assert.True(SignerKeyChain.SameKeys(Keys(50), chain.CurrentKeys));
        Assert.Equal([0L, 2L], chain.Epochs.Select(e => e.FromSize));
        Assert.True(SignerKeyChain.SameKeys(Keys(10), chain.KeysAt(1)));
        Assert.True(SignerKeyChain.SameKeys(Keys(50), chain.KeysAt(2)));

        Assert.Equal(0, chain.ReceiptVerifier().Verify(before).Index);
        Assert.Equal(2, chain.ReceiptVerifier().Verify(after).Index);
        Assert.Equal(1, chain.ReceiptVerifier().Verify(statement).Index);
        // After the rotation a retired key vouches for nothing new, even a genuine old-key signature.
        Assert.Throws<VerificationException>(() => chain.ReceiptVerifier().Verify(stale));
        // Nor does the same statement count twice.
        Assert.Throws<VerificationException>(() => chain.Follow(statement));
    }

    [Fact]
    public async Task A_statement_whose_entry_names_other_keys_than_those_that_cosigned_is_refused()
    {
        var store = "mem-" + Guid.NewGuid().ToString("N");
        var lying = await SealAsync(store, Rotating(10, 50), SignerRotatedEntries.Write(Keys(10), Keys(90)));
        var chain = new SignerKeyChain(Keys(10));
        Assert.Throws<VerificationException>(() => chain.Follow(lying));
        Assert.True(SignerKeyChain.SameKeys(Keys(10), chain.CurrentKeys));
    }

    [Fact]
    public async Task A_statement_not_signed_by_the_trusted_keys_is_refused()
    {
        // The new keys alone, claiming to rotate the original ones.
        var store = "mem-" + Guid.NewGuid().ToString("N");
        var selfSigned = await SealAsync(store, Pair(50), SignerRotatedEntries.Write(Keys(10), Keys(50)));
        Assert.Throws<VerificationException>(() => new SignerKeyChain(Keys(10)).Follow(selfSigned));

        // A genuine two-generation statement that retires keys the chain does not yet trust (followed out of order).
        var other = "mem-" + Guid.NewGuid().ToString("N");
        var second = await SealAsync(other, Rotating(50, 70), SignerRotatedEntries.Write(Keys(50), Keys(70)));
        Assert.Throws<VerificationException>(() => new SignerKeyChain(Keys(10)).Follow(second));
    }

    [Fact]
    public async Task A_statement_of_an_ordinary_entry_or_with_malformed_new_keys_is_refused()
    {
        var store = "mem-" + Guid.NewGuid().ToString("N");
        var ordinary = await SealAsync(store, Rotating(10, 50), Note("not a rotation"));
        Assert.Throws<VerificationException>(() => new SignerKeyChain(Keys(10)).Follow(ordinary));

        // Names only the new ML-DSA-65 key twice instead of one 65 and one 44 key.
        var malformed = await SealAsync(store, Rotating(10, 50), SignerRotatedEntries.Write(Keys(10), [Keys(50)[0], Keys(50)[0]]));
        Assert.Throws<VerificationException>(() => new SignerKeyChain(Keys(10)).Follow(malformed));
    }

    [Fact]
    public void The_entry_round_trips_and_is_recognised_cheaply()
    {
        var bytes = SignerRotatedEntries.Write(Keys(10), Keys(50));
        Assert.True(SignerRotatedEntry.IsRotation(bytes));
        Assert.False(SignerRotatedEntry.IsRotation(Note("signer.rotated")));
        Assert.False(SignerRotatedEntry.IsRotation("not json"u8));
        var parsed = SignerRotatedEntry.Parse(bytes);
        Assert.True(SignerKeyChain.SameKeys(Keys(10), parsed.OldKeys));
        Assert.True(SignerKeyChain.SameKeys(Keys(50), parsed.NewKeys));
        Assert.Throws<FormatViolationException>(() => SignerRotatedEntry.Parse(Note("x")));
        Assert.Throws<FormatViolationException>(() => SignerRotatedEntry.Parse("{\"type\":\"signer.rotated\",\"old\":[],\"new\":[1]}"u8));
    }
}
