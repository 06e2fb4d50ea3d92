using System.Security.Cryptography;
using System.Text;
using Sios.Verify;
using Sios.Verify.Notes;
using Sios.Verify.Policy;

namespace Sios.Verify.Tests.Policy;

/// <summary>The c2sp.org/tlog-policy format: the spec's example, its quorum arithmetic, and each rule it states.</summary>
public sealed class WitnessPolicyTests
{
    private static string Witness(string name) => VerifierKey.Create(name, NoteKeyKind.Ed25519Cosignature, RandomNumberGenerator.GetBytes(32)).ToString();

    private static string LogKey() => VerifierKey.Create("log.example/one", NoteKeyKind.Ed25519, RandomNumberGenerator.GetBytes(32)).ToString();

    private static WitnessPolicy Parse(string text) => WitnessPolicy.Parse(Encoding.UTF8.GetBytes(text));

    /// <summary>The spec's example: two of the X witnesses and one of the Y witnesses.</summary>
    private static WitnessPolicy Example() => Parse($"""
        # the example of c2sp.org/tlog-policy
        log {LogKey()}

        witness X1 {Witness("x1.example")}
        witness X2 {Witness("x2.example")} https://x2.example/witness/
        witness X3	{Witness("x3.example")}
        group X-witnesses 2 X1 X2 X3

          witness Y1 {Witness("y1.example")}
        witness Y2 {Witness("y2.example")}
        witness Y3 {Witness("y3.example")}
        group Y-witnesses any Y1 Y2 Y3

        group X-and-Y all X-witnesses Y-witnesses
        quorum X-and-Y

        """);

    [Theory]
    [InlineData("X1 X2 Y1", true)]
    [InlineData("X1 X3 Y3", true)]
    [InlineData("X1 X2 X3", false)]
    [InlineData("X1 Y1 Y2 Y3", false)]
    [InlineData("", false)]
    [InlineData("X1 X2 X3 Y1 Y2 Y3", true)]
    public void TheExampleQuorumNeedsTwoXAndOneY(string cosigned, bool satisfied)
    {
        var policy = Example();
        var names = cosigned.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(satisfied, policy.IsSatisfied(policy.Witnesses.Where(w => names.Contains(w.Name))));
    }

    [Fact]
    public void TheExampleParsesItsLogsWitnessesAndUrls()
    {
        var policy = Example();
        Assert.Single(policy.Logs);
        Assert.Equal(6, policy.Witnesses.Count);
        Assert.Equal(new Uri("https://x2.example/witness/"), policy.Witnesses[1].Url);
        Assert.Null(policy.Witnesses[0].Url);
        Assert.Equal("X-and-Y", policy.QuorumName);
        Assert.Single(policy.LogKeys("log.example/one"));
    }

    [Fact]
    public void QuorumNoneNeedsNoWitnessAndTheDigestIsOfTheBytes()
    {
        var text = "quorum none\n";
        var policy = Parse(text);
        Assert.True(policy.RequiresNoWitness);
        Assert.True(policy.IsSatisfied([]));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(text)), policy.Digest);
    }

    [Theory]
    [InlineData("", "exactly one quorum line")]
    [InlineData("quorum none\nquorum none\n", "this is the second")]
    [InlineData("quorum W\n", "not a witness or group defined")]
    [InlineData("group G any W\nwitness W {w}\nquorum G\n", "not defined on a preceding line")]
    [InlineData("witness W {w}\ngroup G any W W\nquorum G\n", "listed twice")]
    [InlineData("witness W {w}\ngroup G 2 W\nquorum G\n", "1 <= k <= 1")]
    [InlineData("witness W {w}\ngroup G 0 W\nquorum G\n", "threshold")]
    [InlineData("witness W {w}\ngroup G any none\nquorum G\n", "'none' cannot be a group member")]
    [InlineData("witness none {w}\nquorum none\n", "'none' is predefined")]
    [InlineData("witness W {w}\nwitness W {w2}\nquorum W\n", "already defined")]
    [InlineData("frobnicate\nquorum none\n", "unknown keyword")]
    [InlineData("witness W {w} ftp://w.example/\nquorum W\n", "not an http(s) URL")]
    [InlineData("log {w}\nquorum none\n", "a log key must be a checkpoint signing key")]
    [InlineData("witness W {log}\nquorum W\n", "a witness key must be a cosignature key")]
    [InlineData("quorum none\r\n", "control character")]
    public void EachRuleOfTheSpecIsEnforced(string text, string message)
    {
        var w = Witness("w.example");
        var policyText = text.Replace("{w2}", Witness("w2.example"), StringComparison.Ordinal).Replace("{w}", w, StringComparison.Ordinal).Replace("{log}", LogKey(), StringComparison.Ordinal);
        var e = Assert.Throws<FormatViolationException>(() => Parse(policyText));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoLinesWrappingOnePublicKeyAreDuplicates()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var a = VerifierKey.Create("a.example", NoteKeyKind.Ed25519Cosignature, key);
        var b = VerifierKey.Create("b.example", NoteKeyKind.Ed25519Cosignature, key);
        var e = Assert.Throws<FormatViolationException>(() => Parse($"witness A {a}\nwitness B {b}\nquorum A\n"));
        Assert.Contains("duplicate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NamesAreOpaqueOctets()
    {
        // 'K' and the Kelvin sign are different names (the spec's own example).
        var policy = Parse($"witness K {Witness("k.example")}\nwitness \u212A {Witness("kelvin.example")}\ngroup G all K \u212A\nquorum G\n");
        Assert.False(policy.IsSatisfied([policy.Witnesses[0]]));
        Assert.True(policy.IsSatisfied(policy.Witnesses));
    }
}
