using System.Text;
using Sios.Verify;
using Sios.Verify.Notes;

namespace Sios.Verify.Tests.Notes;

public sealed class NoteParsingTests
{
    private const string Sig = "\u2014 example.com/foo AAAAAQI=\n";

    [Theory]
    [InlineData("text\n\n" + Sig, "text\n")]
    [InlineData("line one\n\nline three\n\n" + Sig, "line one\n\nline three\n")]
    public void Text_is_everything_before_the_last_blank_line(string note, string text)
    {
        var parsed = SignedNote.Parse(Encoding.UTF8.GetBytes(note));
        Assert.Equal(text, parsed.Text);
        Assert.Equal(1u, Assert.Single(parsed.Signatures).KeyId);
    }

    [Theory]
    [InlineData("text\n\n\u2014 example.com/foo AAAAAQI=", "does not end with a newline")]
    [InlineData("text\n\u2014 example.com/foo AAAAAQI=\n", "no blank line")]
    [InlineData("text\n\n- example.com/foo AAAAAQI=\n", "em dash")]
    [InlineData("text\n\n\u2014 example.com/foo\n", "signature line must be")]
    [InlineData("text\n\n\u2014 example.com/foo AAAA\n", "too short")]
    [InlineData("text\n\n\u2014 example.com/foo AAAAAQI\n", "base64")]
    [InlineData("text\n\n\u2014 exa+mple AAAAAQI=\n", "not a valid key name")]
    [InlineData("te\txt\n\n" + Sig, "control character")]
    [InlineData("text\n\n" + Sig + "\n", "no signature lines")]
    public void Malformed_notes_are_rejected_with_a_reason(string note, string reason)
    {
        var e = Assert.ThrowsAny<FormatViolationException>(() => SignedNote.Parse(Encoding.UTF8.GetBytes(note)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        var bytes = Encoding.UTF8.GetBytes("text\n\n" + Sig);
        bytes[1] = 0xff;
        Assert.Contains("UTF-8", Assert.ThrowsAny<FormatViolationException>(() => SignedNote.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_on_size_and_signature_count_apply_before_anything_else()
    {
        var many = "text\n\n" + string.Concat(Enumerable.Repeat(Sig, 17));
        Assert.Contains("over the limit", Assert.ThrowsAny<FormatViolationException>(() => SignedNote.Parse(Encoding.UTF8.GetBytes(many), new NoteLimits(MaxSignatures: 16))).Message, StringComparison.Ordinal);
        Assert.Equal(16, SignedNote.Parse(Encoding.UTF8.GetBytes("text\n\n" + string.Concat(Enumerable.Repeat(Sig, 16))), new NoteLimits(MaxSignatures: 16)).Signatures.Count);
        Assert.Contains("over the limit", Assert.ThrowsAny<FormatViolationException>(() => SignedNote.Parse(new byte[2000], new NoteLimits(MaxNoteBytes: 1000))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com/foo+530d903a", "three parts")]
    [InlineData("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase hex")]
    [InlineData("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match")]
    [InlineData("example.com/foo+530d903a+BekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "not supported")]
    [InlineData("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64")]
    [InlineData("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv", "32 bytes")]
    [InlineData("example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "not a valid key name")]
    public void Malformed_vkeys_are_rejected_with_a_reason(string vkey, string reason)
    {
        var e = Assert.ThrowsAny<FormatViolationException>(() => VerifierKey.Parse(vkey));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vkeys_whose_base64_contains_plus_signs_round_trip()
    {
        var key = VerifierKey.Create("log.example/a", NoteKeyKind.Ed25519, Enumerable.Repeat((byte)0xfb, 32).ToArray());
        var text = key.ToString();
        Assert.True(text.Count(c => c == '+') > 2, text);
        var parsed = VerifierKey.Parse(text);
        Assert.Equal(key.PublicKey, parsed.PublicKey);
        Assert.Equal(key.KeyId, parsed.KeyId);
        Assert.Equal(text, parsed.ToString());
    }
}
