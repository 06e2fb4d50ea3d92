using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Sios.Tests.Shared;
using Sios.Verify.Crypto;

namespace Sios.Verify.Tests.Crypto;

/// <summary>Ed25519Verifier on the c2sp.org/signed-note example (vkey and note read in place, parsed minimally).</summary>
public class Ed25519VerifierTests
{
    [VectorFact]
    public void Signed_note_example_verifies()
    {
        var example = Example.Load();

        Assert.True(Ed25519Verifier.Verify(example.PublicKey, example.Text, example.Signature));
    }

    [VectorFact]
    public void Signature_line_key_id_matches_the_vkey_and_its_definition()
    {
        var example = Example.Load();
        var keyIdInput = Encoding.UTF8.GetBytes(example.Name + "\n").Concat(new byte[] { 0x01 }).Concat(example.PublicKey).ToArray();

        Assert.Equal(example.VkeyKeyId, example.SignatureKeyId);
        Assert.Equal(SHA256.HashData(keyIdInput).Take(4), example.VkeyKeyId);
    }

    [VectorFact]
    public void Altered_note_or_signature_fails()
    {
        var example = Example.Load();
        var altered = (byte[])example.Signature.Clone();
        altered[10] ^= 0x01;

        Assert.False(Ed25519Verifier.Verify(example.PublicKey, example.Text.AsSpan(..^1), example.Signature));
        Assert.False(Ed25519Verifier.Verify(example.PublicKey, [.. example.Text, (byte)'\n'], example.Signature));
        Assert.False(Ed25519Verifier.Verify(example.PublicKey, example.Text, altered));
    }

    [VectorFact]
    public void Malformed_input_gives_false()
    {
        var example = Example.Load();

        Assert.False(Ed25519Verifier.Verify(example.PublicKey.AsSpan(..31), example.Text, example.Signature));
        Assert.False(Ed25519Verifier.Verify(example.PublicKey, example.Text, example.Signature.AsSpan(..63)));
        Assert.False(Ed25519Verifier.Verify(Enumerable.Repeat((byte)0xff, 32).ToArray(), example.Text, example.Signature));
        Assert.False(Ed25519Verifier.Verify([], [], []));
    }

    [Fact]
    public void Arbitrary_keys_and_signatures_never_throw()
    {
        Gen.Select(Gen.Byte.Array[0, 40], Gen.Byte.Array[0, 70])
            .Sample((publicKey, signature) => !Ed25519Verifier.Verify(publicKey, "note\n"u8, signature), iter: 500);
    }

    private sealed record Example(string Name, byte[] VkeyKeyId, byte[] PublicKey, byte[] Text, byte[] SignatureKeyId, byte[] Signature)
    {
        public static Example Load()
        {
            // vkey = name "+" hex(key ID) "+" base64(0x01 || 32-byte public key)
            var vkey = File.ReadAllText(Vectors.PathOf("c2sp/signed-note-ed25519.vkey")).Trim().Split('+');
            var keyMaterial = Convert.FromBase64String(vkey[2]);
            Assert.Equal(0x01, keyMaterial[0]);

            // note = text (ending "\n"), a blank line, then lines "— name base64(key ID || signature)"
            var note = File.ReadAllText(Vectors.PathOf("c2sp/signed-note-ed25519.note"));
            var split = note.IndexOf("\n\n", StringComparison.Ordinal);
            var text = note[..(split + 1)];
            var signatureLine = note[(split + 2)..].Split('\n')[0];
            var prefix = "\u2014 " + vkey[0] + " ";
            Assert.StartsWith(prefix, signatureLine, StringComparison.Ordinal);
            var signed = Convert.FromBase64String(signatureLine[prefix.Length..]);
            Assert.Equal(68, signed.Length);

            return new Example(vkey[0], Convert.FromHexString(vkey[1]), keyMaterial[1..], Encoding.UTF8.GetBytes(text), signed[..4], signed[4..]);
        }
    }
}
