using System.Buffers.Binary;
using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;
using Sios.Verify.Notes;

namespace Sios.Verify.Tests.Notes;

/// <summary>Ed25519 <c>cosignature/v1</c> (type 0x04) lines and the any-key mode a witness verifies logs with.</summary>
public sealed class CosignatureV1Tests
{
    private const string Text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    private static (byte[] Secret, VerifierKey Key) NewKey(string name)
    {
        var secret = new byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(secret);
        var pk = new byte[32];
        Ed25519.GeneratePublicKey(secret, 0, pk, 0);
        return (secret, VerifierKey.Create(name, NoteKeyKind.Ed25519Cosignature, pk));
    }

    /// <summary>A cosignature line over the message written out as the spec's example shows it.</summary>
    private static string Cosign(byte[] secret, VerifierKey key, ulong timestamp, string text)
    {
        var message = Encoding.UTF8.GetBytes($"cosignature/v1\ntime {timestamp}\n{text}");
        var signature = new byte[8 + 64];
        BinaryPrimitives.WriteUInt64BigEndian(signature, timestamp);
        Ed25519.Sign(secret, 0, message, 0, message.Length, signature, 8);
        return SignedNote.FormatSignatureLine(key.Name, key.KeyId, signature);
    }

    [Fact]
    public void Vkey_with_type_0x04_round_trips_and_its_key_id_hashes_0x04()
    {
        var (_, key) = NewKey("witness.example/w1");
        Assert.Equal(key.ToString(), VerifierKey.Parse(key.ToString()).ToString());
        Assert.Equal(NoteKeyKind.Ed25519Cosignature, VerifierKey.Parse(key.ToString()).Kind);
        var material = Encoding.UTF8.GetBytes("witness.example/w1\n").Concat(new byte[] { 0x04 }).Concat(key.PublicKey).ToArray();
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(System.Security.Cryptography.SHA256.HashData(material)), key.KeyId);
    }

    [Fact]
    public void A_cosignature_v1_line_verifies_with_its_timestamp()
    {
        var (secret, key) = NewKey("witness.example/w1");
        var note = Encoding.UTF8.GetBytes(Text + "\n" + Cosign(secret, key, 1679315147, Text));
        var (_, signatures) = new NoteVerifier([key]).Verify(note);
        Assert.Equal(1679315147UL, Assert.Single(signatures).Timestamp);
    }

    [Fact]
    public void A_cosignature_over_other_text_or_time_fails()
    {
        var (secret, key) = NewKey("witness.example/w1");
        var other = Text.Replace("20852163", "20852164", StringComparison.Ordinal);
        var note = Encoding.UTF8.GetBytes(other + "\n" + Cosign(secret, key, 1679315147, Text));
        Assert.Throws<VerificationException>(() => new NoteVerifier([key]).Verify(note));
    }

    [Fact]
    public void VerifyAny_needs_one_trusted_signature_and_refuses_a_bad_known_line()
    {
        var (secretA, keyA) = NewKey("witness.example/a");
        var (_, keyB) = NewKey("witness.example/b");
        var (_, keyC) = NewKey("witness.example/c");
        var signedByA = Encoding.UTF8.GetBytes(Text + "\n" + Cosign(secretA, keyA, 5, Text));
        Assert.Single(new NoteVerifier([keyA, keyB]).VerifyAny(signedByA).Signatures);
        Assert.Throws<VerificationException>(() => new NoteVerifier([keyA, keyB]).Verify(signedByA));
        Assert.Throws<VerificationException>(() => new NoteVerifier([keyB]).VerifyAny(signedByA));

        // Key C's line is signed by A's secret: known name and ID, bad signature.
        var forged = Encoding.UTF8.GetBytes(Text + "\n" + Cosign(secretA, keyA, 5, Text) + Cosign(secretA, keyC, 5, Text));
        Assert.Throws<VerificationException>(() => new NoteVerifier([keyA, keyC]).VerifyAny(forged));
    }
}
