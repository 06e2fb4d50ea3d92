using System.Text;
using Sios.Verify;
using Sios.Verify.Receipts;

namespace Sios.Verify.Tests.Receipts;

public sealed class TlogProofTests
{
    // The layout of the example in c2sp.org/tlog-proof (its signatures are elided there, so the note is opaque here).
    private const string Example = """
        c2sp.org/tlog-proof@v1
        extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6
        index 73894
        gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
        B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=

        example.com/fancylog
        109482
        sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

        — example.com/fancylog hI2DJw==

        """;

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s.ReplaceLineEndings("\n"));

    [Fact]
    public void Parses_the_layout_of_the_spec_example_and_serialises_it_back_byte_for_byte()
    {
        var bytes = Bytes(Example);
        var proof = TlogProof.Parse(bytes);
        Assert.Equal("age-v1.2.1-darwin-arm64.tar.gz", Encoding.ASCII.GetString(proof.Extra!));
        Assert.Equal(73894, proof.Index);
        Assert.Equal(2, proof.InclusionProof.Count);
        Assert.StartsWith("example.com/fancylog\n109482\n", Encoding.UTF8.GetString(proof.CheckpointNote), StringComparison.Ordinal);
        Assert.Equal(bytes, proof.ToBytes());
    }

    [Fact]
    public void Extra_line_is_optional_and_proof_may_be_empty()
    {
        var proof = TlogProof.Parse(Bytes("c2sp.org/tlog-proof@v1\nindex 0\n\nnote\n"));
        Assert.Null(proof.Extra);
        Assert.Empty(proof.InclusionProof);
        Assert.Equal("note\n", Encoding.UTF8.GetString(proof.CheckpointNote));
    }

    [Theory]
    [InlineData("c2sp.org/tlog-proof@v2\nindex 0\n\nx\n", "does not start with")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 0\nx\n", "no blank line")]
    [InlineData("c2sp.org/tlog-proof@v1\nextra AA==\n\nx\n", "no 'index' line")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 01\n\nx\n", "leading zeroes")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\nx\n", "not 32")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 0\nextra AA==\n\nx\n", "base64")]
    [InlineData("c2sp.org/tlog-proof@v1\nextra A\nindex 0\n\nx\n", "base64")]
    public void Malformed_proofs_are_rejected_with_a_reason(string text, string reason)
    {
        var e = Assert.ThrowsAny<FormatViolationException>(() => TlogProof.Parse(Bytes(text)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_long_proofs_are_rejected_before_any_hashing()
    {
        var hash = Convert.ToBase64String(new byte[32]) + "\n";
        var text = "c2sp.org/tlog-proof@v1\nindex 0\n" + string.Concat(Enumerable.Repeat(hash, 64)) + "\nx\n";
        Assert.Contains("more than", Assert.ThrowsAny<FormatViolationException>(() => TlogProof.Parse(Bytes(text))).Message, StringComparison.Ordinal);
    }
}
