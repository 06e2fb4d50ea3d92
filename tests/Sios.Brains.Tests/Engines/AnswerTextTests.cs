using System.Text;
using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

public class AnswerTextTests
{
    private static (string Emitted, bool Stopped) Feed(AnswerText text, params string[] pieces)
    {
        var emitted = new StringBuilder();
        foreach (var piece in pieces)
        {
            emitted.Append(text.Push(Encoding.UTF8.GetBytes(piece)));
            if (text.Stopped)
            {
                return (emitted.ToString(), true);
            }
        }

        return (emitted.Append(text.Flush()).ToString(), false);
    }

    [Fact]
    public void Without_stops_everything_is_emitted_at_once()
    {
        var text = new AnswerText([]);
        Assert.Equal("ab", text.Push("ab"u8));
        Assert.Equal("c", text.Push("c"u8));
        Assert.Equal("", text.Flush());
    }

    [Fact]
    public void A_stop_split_across_tokens_is_never_emitted()
    {
        var text = new AnswerText(["END"]);
        Assert.Equal("hello ", text.Push("hello E"u8));
        Assert.Equal("", text.Push("N"u8));
        Assert.Equal("", text.Push("D and more"u8));
        Assert.True(text.Stopped);
        Assert.Equal("", text.Push("x"u8));
        Assert.Equal("", text.Flush());
    }

    [Fact]
    public void A_false_start_is_released_once_it_cannot_be_a_stop()
    {
        var (emitted, stopped) = Feed(new AnswerText(["END"]), "a E", "N", "x", "y");
        Assert.False(stopped);
        Assert.Equal("a ENxy", emitted);
    }

    [Fact]
    public void The_earliest_of_several_stops_wins()
    {
        var (emitted, stopped) = Feed(new AnswerText(["bc", "abcd", "q"]), "xxab", "cd");
        Assert.True(stopped);
        Assert.Equal("xx", emitted);

        (emitted, stopped) = Feed(new AnswerText(["cd", "bcq"]), "xxab", "cd");
        Assert.True(stopped);
        Assert.Equal("xxab", emitted);
    }

    [Fact]
    public void Utf8_split_across_tokens_is_decoded_whole()
    {
        var bytes = Encoding.UTF8.GetBytes("né🙂");
        var text = new AnswerText([]);
        var emitted = new StringBuilder();
        foreach (var b in bytes)
        {
            emitted.Append(text.Push([b]));
        }

        Assert.Equal("né🙂", emitted.Append(text.Flush()).ToString());
    }

    [Fact]
    public void A_cut_utf8_sequence_is_flushed_as_a_replacement_character()
    {
        var text = new AnswerText([]);
        Assert.Equal("a", text.Push([(byte)'a', 0xE2, 0x82]));
        Assert.Equal("\uFFFD", text.Flush());
    }

    [Fact]
    public void Held_text_is_returned_when_generation_ends_without_a_stop()
    {
        var (emitted, stopped) = Feed(new AnswerText(["<|user|>"]), "answer <|us");
        Assert.False(stopped);
        Assert.Equal("answer <|us", emitted);
    }
}
