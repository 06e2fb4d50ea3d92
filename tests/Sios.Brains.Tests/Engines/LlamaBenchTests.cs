using Sios.Brains.Engines;

namespace Sios.Brains.Tests.Engines;

[Collection(LlamaTestGroup.Name)]
public sealed class LlamaBenchTests(LlamaFixture fx)
{
    private static readonly ChatMessage[] Messages = [new("user", "Count to ten.")];

    [Fact]
    public async Task Bare_loop_and_engine_are_measured_on_the_same_prompt()
    {
        await using var engine = fx.Model.CreateEngine(LlamaFixture.Options);
        var (bare, viaEngine) = await LlamaBench.CompareAsync(engine, Messages, tokens: 8, rounds: 1);

        Assert.Equal(bare.PromptTokens, viaEngine.PromptTokens);
        Assert.Equal(8, viaEngine.GeneratedTokens);
        Assert.True(bare.GenerationTokensPerSecond > 0 && viaEngine.GenerationTokensPerSecond > 0);
        Assert.True(bare.PromptTokensPerSecond > 0 && viaEngine.PromptTokensPerSecond > 0);

        var (tokensPerSecond, latency) = await LlamaBench.ConcurrentAsync(engine, Messages, concurrent: 2, tokens: 4);
        Assert.True(tokensPerSecond > 0 && latency > 0);
    }

    [Fact]
    public async Task Adapter_switch_latencies_are_sampled()
    {
        var ready = await LlamaBench.SpecialistSwitchAsync(fx.Model, [fx.AdapterA, fx.AdapterB], LlamaFixture.Options, switches: 4);
        var (swap, still) = LlamaBench.ContextAdapterSwap(fx.Model, [fx.AdapterA, fx.AdapterB], threads: 2, switches: 4);

        Assert.Equal(4, ready.Count);
        Assert.Equal(4, swap.Count);
        Assert.Equal(4, still.Count);
        Assert.True(ready.P50 > 0 && ready.P50 <= ready.P99 && ready.P99 <= ready.Max);
        Assert.Equal(0, fx.Model.LiveEngines);
    }
}
