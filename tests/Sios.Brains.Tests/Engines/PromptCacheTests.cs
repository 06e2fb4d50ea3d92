using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

/// <summary>
/// Prompt caching in the decode loop: a conversation's next turn decodes only what its prompt adds to what the same
/// scope left in a sequence, the answer is exactly the one a cold engine gives, and no scope ever reuses another's.
/// </summary>
[Collection(LlamaTestGroup.Name)]
public sealed class PromptCacheTests(LlamaFixture fx)
{
    private static readonly LlamaEngineOptions Cold = LlamaFixture.Options with { PromptCache = false };

    private static ChatRequest Turn(IReadOnlyList<ChatMessage> messages, string? scope, float temperature = 0f) => new()
    {
        Messages = messages,
        MaxTokens = 12,
        Seed = 11,
        Temperature = temperature,
        CacheScope = scope,
    };

    [Theory]
    [InlineData(0f)]
    [InlineData(0.8f)]
    public async Task A_conversations_next_turns_reuse_its_prefix_and_answer_exactly_as_a_cold_engine(float temperature)
    {
        await using var cached = fx.Model.CreateEngine(LlamaFixture.Options);
        await using var cold = fx.Model.CreateEngine(Cold);
        var messages = new List<ChatMessage> { new("system", "You are terse."), new("user", "Hello there.") };
        var previousPrompt = 0;
        for (var turn = 0; turn < 5; turn++)
        {
            var warm = await LlamaFixture.RunAsync(cached, Turn(messages, "key:alice", temperature));
            var fresh = await LlamaFixture.RunAsync(cold, Turn(messages, "key:alice", temperature));
            Assert.Equal(fresh.Text, warm.Text);
            Assert.Equal(fresh.Final.Usage!.PromptTokens, warm.Final.Usage!.PromptTokens);
            Assert.Equal(0, fresh.Final.Usage.CachedTokens);
            if (turn == 0)
            {
                Assert.Equal(0, warm.Final.Usage.CachedTokens);
            }
            else
            {
                // At least the whole previous prompt was there to reuse; never the new turn's last token.
                Assert.InRange(warm.Final.Usage.CachedTokens, previousPrompt, warm.Final.Usage.PromptTokens - 1);
            }

            previousPrompt = warm.Final.Usage.PromptTokens;
            messages.Add(new ChatMessage("assistant", warm.Text));
            messages.Add(new ChatMessage("user", $"And then, {turn}?"));
        }
    }

    [Fact]
    public async Task A_prompt_seen_before_decodes_only_its_last_token_again_and_only_in_its_own_scope()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var messages = new List<ChatMessage> { new("user", "The same question, twice.") };
        var first = await LlamaFixture.RunAsync(engine, Turn(messages, "key:alice"));
        Assert.Equal(0, first.Final.Usage!.CachedTokens);

        var other = await LlamaFixture.RunAsync(engine, Turn(messages, "key:bob"));
        Assert.Equal(0, other.Final.Usage!.CachedTokens);
        Assert.Equal(first.Text, other.Text);

        var none = await LlamaFixture.RunAsync(engine, Turn(messages, null));
        Assert.Equal(0, none.Final.Usage!.CachedTokens);

        var again = await LlamaFixture.RunAsync(engine, Turn(messages, "key:alice"));
        Assert.Equal(again.Final.Usage!.PromptTokens - 1, again.Final.Usage.CachedTokens);
        Assert.Equal(first.Text, again.Text);
        var bobAgain = await LlamaFixture.RunAsync(engine, Turn(messages, "key:bob"));
        Assert.Equal(bobAgain.Final.Usage!.PromptTokens - 1, bobAgain.Final.Usage.CachedTokens);
    }

    [Fact]
    public async Task Concurrent_scopes_each_find_their_own_sequence_and_the_least_recently_used_is_given_up()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var scopes = Enumerable.Range(0, LlamaFixture.Options.MaxParallel).Select(i => $"key:{i}").ToList();
        List<ChatMessage> Ask(string scope) => [new("user", $"A question of {scope}, long enough to be worth keeping.")];

        await Task.WhenAll(scopes.Select(s => LlamaFixture.RunAsync(engine, Turn(Ask(s), s))));
        var again = await Task.WhenAll(scopes.Select(s => LlamaFixture.RunAsync(engine, Turn(Ask(s), s))));
        Assert.All(again, r => Assert.Equal(r.Final.Usage!.PromptTokens - 1, r.Final.Usage.CachedTokens));

        // One more scope than sequences: it takes the least recently used one, whose scope then starts cold.
        foreach (var s in scopes.Skip(1))
        {
            await LlamaFixture.RunAsync(engine, Turn(Ask(s), s));
        }

        await LlamaFixture.RunAsync(engine, Turn(Ask("key:new"), "key:new"));
        Assert.Equal(0, (await LlamaFixture.RunAsync(engine, Turn(Ask(scopes[0]), scopes[0]))).Final.Usage!.CachedTokens);
        Assert.True((await LlamaFixture.RunAsync(engine, Turn(Ask("key:new"), "key:new"))).Final.Usage!.CachedTokens > 0);
    }
}
