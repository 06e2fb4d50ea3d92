using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Signing;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;

namespace Sios.Ledger.Tests.Checkpoints;

public sealed class LogSignerTests
{
    private const string Origin = "ministry.example/sios-1";

    private static readonly byte[] Oid65 = [0xff, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];

    private static uint KeyId(string name, byte[] type, byte[] key)
    {
        var digest = SHA256.HashData([.. Encoding.UTF8.GetBytes(name), 0x0a, .. type, .. key]);
        return BinaryPrimitives.ReadUInt32BigEndian(digest);
    }

    [Fact]
    public void Checkpoint_note_is_laid_out_exactly_as_spec_section_3_says()
    {
        var clock = new FixedClock(DateTimeOffset.FromUnixTimeSeconds(1_790_000_000));
        using var signer = new LogSigner(Origin, MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, new byte[32]), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[32]), clock);
        var root = SHA256.HashData("root"u8);

        var note = Encoding.UTF8.GetString(signer.Sign(7, root));
        var lines = note.Split('\n');
        Assert.Equal([Origin, "7", Convert.ToBase64String(root), ""], lines[..4]);
        Assert.Equal("", lines[^1]);
        Assert.Equal(7, lines.Length);

        var text = Encoding.UTF8.GetBytes($"{Origin}\n7\n{Convert.ToBase64String(root)}\n");
        var primary = Convert.FromBase64String(lines[4][$"\u2014 {Origin} ".Length..]);
        var cosig = Convert.FromBase64String(lines[5][$"\u2014 {Origin} ".Length..]);
        var seedKey65 = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, new byte[32]).PublicKey;
        var seedKey44 = MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[32]).PublicKey;

        Assert.Equal(KeyId(Origin, Oid65, seedKey65), BinaryPrimitives.ReadUInt32BigEndian(primary));
        Assert.Equal(4 + 3309, primary.Length);
        Assert.True(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa65, seedKey65, text, primary.AsSpan(4)));

        Assert.Equal(KeyId(Origin, [0x06], seedKey44), BinaryPrimitives.ReadUInt32BigEndian(cosig));
        Assert.Equal(4 + 8 + 2420, cosig.Length);
        Assert.Equal(1_790_000_000UL, BinaryPrimitives.ReadUInt64BigEndian(cosig.AsSpan(4)));
        byte[] message =
        [
            .. "subtree/v1\n\0"u8.ToArray(), (byte)Origin.Length, .. Encoding.UTF8.GetBytes(Origin),
            0, 0, 0, 0, 0x6a, 0xb1, 0x3b, 0x80, (byte)Origin.Length, .. Encoding.UTF8.GetBytes(Origin),
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, .. root,
        ];
        Assert.True(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, seedKey44, message, cosig.AsSpan(12)));

        Assert.Equal($"{Origin}+{KeyId(Origin, Oid65, seedKey65):x8}+{Convert.ToBase64String([.. Oid65, .. seedKey65])}", signer.PrimaryKey.ToString());
        Assert.Equal($"{Origin}+{KeyId(Origin, [0x06], seedKey44):x8}+{Convert.ToBase64String([0x06, .. seedKey44])}", signer.CosignerKey.ToString());
    }

    [Fact]
    public void Signed_checkpoints_verify_and_any_altered_byte_is_rejected()
    {
        using var signer = new LogSigner(Origin, MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        var note = signer.Sign(3, SHA256.HashData("x"u8));
        var verifier = CheckpointVerifier.ForLogKeys(signer.VerifierKeys);
        Assert.Equal(3, verifier.Verify(note).Checkpoint.Size);

        foreach (var at in new[] { 0, Origin.Length + 1, Origin.Length + 4, note.Length - 10, note.Length - 3000 })
        {
            var altered = (byte[])note.Clone();
            altered[at] ^= 0x01;
            Assert.ThrowsAny<Sios.Verify.VerificationException>(() => verifier.Verify(altered));
        }

        var otherLog = CheckpointVerifier.ForLogKeys([VerifierKey.Create("other.example/log", NoteKeyKind.MlDsa65, signer.PrimaryKey.PublicKey)]);
        Assert.ThrowsAny<Sios.Verify.VerificationException>(() => otherLog.Verify(note));
    }

    [Fact]
    public void The_running_signer_signs_attestations_and_nothing_that_could_pass_for_a_checkpoint()
    {
        using var signer = new LogSigner(Origin, MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, new byte[32]), MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[32]));
        var statement = "sios-attestation/v1\nlog 3 AAAA\n";
        var (note, signatures) = new NoteVerifier([signer.PrimaryKey]).Verify(signer.SignAttestation(statement));
        Assert.Equal(statement, note.Text);
        Assert.Single(signatures);

        var checkpointText = Origin + "\n7\n" + Convert.ToBase64String(new byte[32]) + "\n";
        Assert.Throws<ArgumentException>(() => signer.SignAttestation(checkpointText));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
