using System.Security.Cryptography;
using System.Text;
using Sios.Tests.Shared;
using Sios.Verify;
using Sios.Verify.Notes;

namespace Sios.Verify.Tests.Notes;

/// <summary>The c2sp.org/signed-note example (Ed25519), read in place from ../shared/vectors/c2sp.</summary>
public sealed class SignedNoteExampleTests
{
    private static string VkeyText => File.ReadAllText(Vectors.PathOf("c2sp/signed-note-ed25519.vkey")).Trim();

    private static byte[] NoteBytes => File.ReadAllBytes(Vectors.PathOf("c2sp/signed-note-ed25519.note"));

    [VectorFact]
    public void Vkey_parses_to_name_key_id_and_ed25519_key()
    {
        var key = VerifierKey.Parse(VkeyText);
        Assert.Equal("example.com/foo", key.Name);
        Assert.Equal(0x530d903au, key.KeyId);
        Assert.Equal(NoteKeyKind.Ed25519, key.Kind);
        Assert.Equal(32, key.PublicKey.Length);
        Assert.Equal(VkeyText, key.ToString());
    }

    [VectorFact]
    public void Key_id_is_the_truncated_hash_of_name_newline_type_and_key()
    {
        var key = VerifierKey.Parse(VkeyText);
        var material = Encoding.UTF8.GetBytes("example.com/foo\n").Concat(new byte[] { 0x01 }).Concat(key.PublicKey).ToArray();
        var digest = SHA256.HashData(material);
        Assert.Equal((uint)(digest[0] << 24 | digest[1] << 16 | digest[2] << 8 | digest[3]), key.KeyId);
    }

    [VectorFact]
    public void Note_splits_into_text_and_one_signature()
    {
        var note = SignedNote.Parse(NoteBytes);
        Assert.Equal("This is an example message.\n", note.Text);
        var signature = Assert.Single(note.Signatures);
        Assert.Equal("example.com/foo", signature.KeyName);
        Assert.Equal(0x530d903au, signature.KeyId);
        Assert.Equal(64, signature.Signature.Length);
    }

    [VectorFact]
    public void Note_verifies_under_its_vkey()
    {
        var (note, signatures) = new NoteVerifier([VerifierKey.Parse(VkeyText)]).Verify(NoteBytes);
        Assert.Equal("This is an example message.\n", note.Text);
        Assert.Equal(NoteKeyKind.Ed25519, Assert.Single(signatures).Key.Kind);
    }

    [VectorFact]
    public void Altered_text_is_rejected()
    {
        var bytes = NoteBytes;
        bytes[0] ^= 0x01;
        var e = Assert.Throws<VerificationException>(() => new NoteVerifier([VerifierKey.Parse(VkeyText)]).Verify(bytes));
        Assert.Contains("does not verify", e.Message, StringComparison.Ordinal);
    }

    [VectorFact]
    public void Signature_from_an_unknown_key_is_ignored_so_the_note_is_not_signed_by_the_required_key()
    {
        var other = VerifierKey.Create("example.com/bar", NoteKeyKind.Ed25519, VerifierKey.Parse(VkeyText).PublicKey);
        var e = Assert.Throws<VerificationException>(() => new NoteVerifier([other]).Verify(NoteBytes));
        Assert.Contains("not signed by example.com/bar", e.Message, StringComparison.Ordinal);
    }
}
