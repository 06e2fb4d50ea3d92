using Sios.Verify;
using Sios.Verify.Checkpoints;

namespace Sios.Verify.Tests.Checkpoints;

public sealed class CheckpointTests
{
    private const string Root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

    [Fact]
    public void Parses_the_tlog_checkpoint_example_and_formats_it_back_byte_for_byte()
    {
        const string text = "example.com/behind-the-sofa\n20852163\n" + Root + "\n";
        var checkpoint = Checkpoint.Parse(text);
        Assert.Equal("example.com/behind-the-sofa", checkpoint.Origin);
        Assert.Equal(20852163, checkpoint.Size);
        Assert.Equal(Convert.FromBase64String(Root), checkpoint.Root);
        Assert.Empty(checkpoint.Extensions);
        Assert.Equal(text, checkpoint.ToNoteText());
    }

    [Fact]
    public void Extension_lines_are_kept()
    {
        var checkpoint = Checkpoint.Parse("o.example/log\n0\n" + Root + "\nextension one\n");
        Assert.Equal(["extension one"], checkpoint.Extensions);
    }

    [Theory]
    [InlineData("o.example/log\n1\n" + Root, "end with a newline")]
    [InlineData("o.example/log\n1\n", "at least three lines")]
    [InlineData("o.example/log\n01\n" + Root + "\n", "leading zeroes")]
    [InlineData("o.example/log\n-1\n" + Root + "\n", "not a decimal")]
    [InlineData("o.example/log\n+1\n" + Root + "\n", "not a decimal")]
    [InlineData("o.example/log\n99999999999999999999\n" + Root + "\n", "not a decimal")]
    [InlineData("o.example/log\n1\nAAAA\n", "not 32")]
    [InlineData("o.example/log\n1\n" + Root + "\n\n", "must not be empty")]
    [InlineData("\n1\n" + Root + "\n", "not a valid key name")]
    [InlineData("o example\n1\n" + Root + "\n", "not a valid key name")]
    public void Malformed_checkpoints_are_rejected_with_a_reason(string text, string reason)
    {
        var e = Assert.ThrowsAny<FormatViolationException>(() => Checkpoint.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cosigned_message_has_the_subtree_v1_layout()
    {
        var hash = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var message = CosignedMessage.Build("w.example", 0x0102030405060708, "log.example/a", 0, 42, hash);
        byte[] expected =
        [
            .. "subtree/v1\n\0"u8.ToArray(),
            9, .. "w.example"u8.ToArray(),
            1, 2, 3, 4, 5, 6, 7, 8,
            13, .. "log.example/a"u8.ToArray(),
            0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 42,
            .. hash,
        ];
        Assert.Equal(expected, message);
    }

    [Fact]
    public void Cosigned_message_refuses_out_of_range_fields()
    {
        var hash = new byte[32];
        Assert.ThrowsAny<FormatViolationException>(() => CosignedMessage.Build(new string('a', 256), 0, "o", 0, 1, hash));
        Assert.ThrowsAny<FormatViolationException>(() => CosignedMessage.Build("w", 1, "o", 1, 2, hash));
        Assert.ThrowsAny<FormatViolationException>(() => CosignedMessage.Build("w", (ulong)long.MaxValue + 1, "o", 0, 2, hash));
        Assert.ThrowsAny<FormatViolationException>(() => CosignedMessage.Build("w", 0, "o", 0, 2, new byte[31]));
    }
}
