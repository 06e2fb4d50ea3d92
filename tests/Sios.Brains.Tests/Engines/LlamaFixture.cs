using System.Text;
using Sios.Brains.Engines;
using Sios.Brains.Synth;

namespace Sios.Brains.Tests.Engines;

/// <summary>One synthesized base model (and two LoRA adapters for it) loaded once for all native tests.</summary>
public sealed class LlamaFixture : IAsyncLifetime
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("sios-llama-").FullName;
    public string BasePath => Path.Combine(Dir, "base.gguf");
    public string AdapterA => Path.Combine(Dir, "lora-a.gguf");
    public string AdapterB => Path.Combine(Dir, "lora-b.gguf");
    public LlamaModel Model { get; private set; } = null!;

    public static LlamaEngineOptions Options { get; } = new() { ContextSize = 512, Threads = 2, MaxParallel = 4, ModelDigest = "sha256:test" };

    public async Task InitializeAsync()
    {
        TinyModelSynth.WriteModel(BasePath, new TinyModelOptions { Seed = 3 });
        TinyModelSynth.WriteLoraAdapter(AdapterA, BasePath, new LoraOptions { Seed = 1 });
        TinyModelSynth.WriteLoraAdapter(AdapterB, BasePath, new LoraOptions { Seed = 2, AllAttention = true });
        Model = await LlamaModel.LoadAsync(BasePath);
    }

    public Task DisposeAsync()
    {
        Model.Dispose();
        Directory.Delete(Dir, recursive: true);
        return Task.CompletedTask;
    }

    public static ChatRequest Request(int maxTokens = 24, uint seed = 42, float temperature = 0.8f) => new()
    {
        Messages = [new ChatMessage("system", "You are terse."), new ChatMessage("user", "Say something.")],
        MaxTokens = maxTokens,
        Seed = seed,
        Temperature = temperature,
    };

    public static async Task<(string Text, GenerationUpdate Final, int Updates)> RunAsync(IBrainEngine engine, ChatRequest request, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var text = new StringBuilder();
        GenerationUpdate? final = null;
        var count = 0;
        await foreach (var u in engine.GenerateAsync(request, timeout.Token))
        {
            Assert.Null(final);
            text.Append(u.Text);
            count++;
            if (u.IsFinal)
            {
                final = u;
            }
        }

        Assert.NotNull(final);
        return (text.ToString(), final, count);
    }
}

[CollectionDefinition(Name)]
public sealed class LlamaTestGroup : ICollectionFixture<LlamaFixture>
{
    public const string Name = "llama.cpp";
}
