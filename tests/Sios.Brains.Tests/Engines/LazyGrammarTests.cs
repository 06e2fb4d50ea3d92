using System.Text;
using LLama.Native;
using LLama.Sampling;
using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

/// <summary>When the auto-mode tool grammar engages, and which tokens it is fed, told apart without a model.</summary>
public sealed class LazyGrammarTests
{
    private sealed class RecordingSampler : ISamplingPipeline
    {
        public List<int> Accepted { get; } = [];

        public LLamaToken Sample(SafeLLamaContextHandle ctx, int index) => throw new NotSupportedException();

        public void Apply(SafeLLamaContextHandle ctx, LLamaTokenDataArray data) => throw new NotSupportedException();

        public void Reset() => Accepted.Clear();

        public void Accept(LLamaToken token) => Accepted.Add((int)token);

        public void Dispose()
        {
        }
    }

    private static (RecordingSampler? Engaged, LazyGrammar Lazy) Feed(string marker, string prefix, bool atStart, params string[] pieces)
    {
        RecordingSampler? made = null;
        var lazy = new LazyGrammar(marker, prefix, atStart, () => made = new RecordingSampler());
        for (var i = 0; i < pieces.Length; i++)
        {
            if (lazy.Observe((LLamaToken)(100 + i), Encoding.UTF8.GetBytes(pieces[i])) is { } sampler)
            {
                Assert.Same(made, sampler);
                return (made, lazy);
            }
        }

        return (null, lazy);
    }

    [Fact]
    public void A_marker_token_after_text_engages_and_only_it_is_replayed()
    {
        var (sampler, lazy) = Feed("<tool_call>", "<tool_call>\n{\"name\": \"", false, "Sure", ", ", "<tool_call>");
        Assert.NotNull(sampler);
        Assert.True(lazy.Engaged);
        Assert.Equal([102], sampler.Accepted);
    }

    [Fact]
    public void A_marker_spelled_over_several_tokens_replays_them_all()
    {
        var (sampler, _) = Feed("<tool_call>", "<tool_call>\n{\"name\": \"", false, "ok ", "<tool", "_ca", "ll>");
        Assert.Equal([101, 102, 103], sampler!.Accepted);
    }

    [Fact]
    public void A_marker_that_begins_inside_a_token_leaves_the_answer_free()
    {
        var (sampler, lazy) = Feed("<tool_call>", "<tool_call>\n{\"name\": \"", false, "ok <tool", "_call>");
        Assert.Null(sampler);
        Assert.False(lazy.Watching);
        Assert.False(lazy.Engaged);
    }

    [Fact]
    public void Text_past_what_every_call_begins_with_is_not_replayed()
    {
        // The token completing the marker runs on into text the grammar might refuse.
        var (sampler, lazy) = Feed("<tool_call>", "<tool_call>\n{\"name\": \"", false, "<tool_call>\n{\"nom");
        Assert.Null(sampler);
        Assert.False(lazy.Engaged);
    }

    [Fact]
    public void A_start_only_marker_counts_after_leading_whitespace_and_replays_from_the_first_token()
    {
        var (sampler, _) = Feed("{\"name\"", "{\"name\": \"", true, " \n", "{\"", "name\"");
        Assert.Equal([100, 101, 102], sampler!.Accepted);
    }

    [Fact]
    public void A_start_only_marker_stops_watching_once_the_answer_begins_otherwise()
    {
        var (sampler, lazy) = Feed("{\"name\"", "{\"name\": \"", true, "The", " {\"name\"");
        Assert.Null(sampler);
        Assert.False(lazy.Watching);
    }

    [Fact]
    public void Too_much_leading_whitespace_is_more_than_the_grammar_admits()
    {
        var (sampler, _) = Feed("{\"name\"", "{\"name\": \"", true, "          ", "{\"name\"");
        Assert.Null(sampler);
    }
}
