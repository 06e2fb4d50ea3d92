using Sios.Brains.Engines;
using Sios.Brains.Synth;

namespace Sios.Brains.Tests.Engines;

[Collection(LlamaTestGroup.Name)]
public sealed class LoraAndLoadTests(LlamaFixture fx)
{
    private static ChatRequest Greedy => LlamaFixture.Request(maxTokens: 24, temperature: 0f);

    [Fact]
    public async Task Lora_adapter_changes_the_output_and_scale_zero_restores_the_base()
    {
        await using var plain = fx.Model.CreateEngine(LlamaFixture.Options);
        await using var specialist = fx.Model.CreateSpecialist(fx.AdapterA, 1f, LlamaFixture.Options);
        await using var muted = fx.Model.CreateSpecialist(fx.AdapterA, 0f, LlamaFixture.Options);

        var baseText = (await LlamaFixture.RunAsync(plain, Greedy)).Text;
        var adapted = (await LlamaFixture.RunAsync(specialist, Greedy)).Text;
        var mutedText = (await LlamaFixture.RunAsync(muted, Greedy)).Text;

        Assert.NotEqual(baseText, adapted);
        Assert.Equal(baseText, mutedText);
        Assert.Equal(Path.GetFullPath(fx.AdapterA), specialist.AdapterPath);
    }

    [Fact]
    public async Task Switching_specialists_never_reloads_the_base()
    {
        var loadsBefore = LlamaModel.LoadCount;
        var handle = fx.Model.Weights.NativeHandle;
        var texts = new List<string>();
        foreach (var adapter in new[] { fx.AdapterA, fx.AdapterB, fx.AdapterA, fx.AdapterB })
        {
            await using var specialist = fx.Model.CreateSpecialist(adapter, 1f, LlamaFixture.Options);
            Assert.Same(fx.Model, specialist.Model);
            Assert.Same(handle, specialist.Model.Weights.NativeHandle);
            texts.Add((await LlamaFixture.RunAsync(specialist, Greedy)).Text);
        }

        Assert.Equal(loadsBefore, LlamaModel.LoadCount);
        Assert.Same(fx.Model.GetAdapter(fx.AdapterA), fx.Model.GetAdapter(fx.AdapterA));
        Assert.InRange(fx.Model.AdapterLoadCount, 2, 2);
        Assert.Equal(texts[0], texts[2]);
        Assert.Equal(texts[1], texts[3]);
        Assert.NotEqual(texts[0], texts[1]);
    }

    [Fact]
    public async Task Specialists_run_side_by_side_on_one_base()
    {
        await using var a = fx.Model.CreateSpecialist(fx.AdapterA, 1f, LlamaFixture.Options);
        await using var b = fx.Model.CreateSpecialist(fx.AdapterB, 1f, LlamaFixture.Options);
        var soloA = (await LlamaFixture.RunAsync(a, Greedy)).Text;
        var soloB = (await LlamaFixture.RunAsync(b, Greedy)).Text;

        var both = await Task.WhenAll(LlamaFixture.RunAsync(a, Greedy), LlamaFixture.RunAsync(b, Greedy));

        Assert.Equal(soloA, both[0].Text);
        Assert.Equal(soloB, both[1].Text);
    }

    [Fact]
    public void Adapter_for_another_base_is_refused_with_a_clear_error()
    {
        var otherBase = Path.Combine(fx.Dir, "other-base.gguf");
        var otherLora = Path.Combine(fx.Dir, "other-lora.gguf");
        TinyModelSynth.WriteModel(otherBase, new TinyModelOptions { Embedding = 32, Heads = 2, KvHeads = 2 });
        TinyModelSynth.WriteLoraAdapter(otherLora, otherBase, new LoraOptions());

        var wrongShape = Assert.Throws<ModelLoadException>(() => fx.Model.GetAdapter(otherLora));
        Assert.Contains("wrong shape", wrongShape.Message, StringComparison.Ordinal);
        var notAdapter = Assert.Throws<ModelLoadException>(() => fx.Model.GetAdapter(otherBase));
        Assert.Contains("not a LoRA adapter", notAdapter.Message, StringComparison.Ordinal);
        Assert.Throws<ModelLoadException>(() => fx.Model.GetAdapter(Path.Combine(fx.Dir, "missing.gguf")));
    }

    [Theory]
    [InlineData("text")]
    [InlineData("empty")]
    [InlineData("truncated")]
    [InlineData("missing")]
    public async Task Loading_a_file_that_is_not_a_usable_gguf_fails_with_a_clear_exception(string kind)
    {
        var path = Path.Combine(fx.Dir, $"broken-{kind}.gguf");
        switch (kind)
        {
            case "text":
                await File.WriteAllTextAsync(path, "this is a README, not a model\n");
                break;
            case "empty":
                await File.WriteAllBytesAsync(path, []);
                break;
            case "truncated":
                var bytes = await File.ReadAllBytesAsync(fx.BasePath);
                await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
                break;
        }

        var e = await Assert.ThrowsAsync<ModelLoadException>(() => LlamaEngine.LoadAsync(path, LlamaFixture.Options));
        Assert.Contains(Path.GetFullPath(path), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gguf_that_llama_cpp_rejects_fails_with_its_reason()
    {
        var path = Path.Combine(fx.Dir, "no-vocab.gguf");
        var w = new GgufWriter().AddString("general.architecture", "llama").AddUInt32("llama.block_count", 1);
        w.AddTensor("token_embd.weight", GgufTensorType.F32, [8, 4], new float[32]);
        w.WriteTo(path);

        var e = await Assert.ThrowsAsync<ModelLoadException>(() => LlamaModel.LoadAsync(path));
        Assert.Contains("llama.cpp", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_without_a_chat_template_needs_one_configured()
    {
        var path = Path.Combine(fx.Dir, "no-template.gguf");
        TinyModelSynth.WriteModel(path, new TinyModelOptions { ChatTemplate = false });

        await using (var bare = await LlamaEngine.LoadAsync(path, LlamaFixture.Options))
        {
            Assert.False(bare.HasChatTemplate);
            var e = await Assert.ThrowsAsync<MissingChatTemplateException>(() => LlamaFixture.RunAsync(bare, Greedy));
            Assert.Contains("no chat template", e.Message, StringComparison.Ordinal);
            Assert.Equal(64, (await bare.EmbedAsync(["still embeds"], CancellationToken.None)).Vectors[0].Length);
        }

        await using var configured = await LlamaEngine.LoadAsync(path, LlamaFixture.Options with { ChatTemplate = ByteVocabulary.ChatMlTemplate });
        Assert.Equal("<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n", configured.RenderPrompt([new ChatMessage("user", "x")]));
        Assert.Equal(FinishReason.Length, (await LlamaFixture.RunAsync(configured, Greedy)).Final.FinishReason);

        // A template this server cannot run refuses the load, naming the construct, rather than failing at the first chat.
        var refused = await Assert.ThrowsAsync<ModelLoadException>(() => LlamaEngine.LoadAsync(path, LlamaFixture.Options with { ChatTemplate = "{% extends 'base' %}" }));
        Assert.Contains("extends", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_cannot_be_freed_under_its_engines()
    {
        var model = await LlamaModel.LoadAsync(fx.BasePath);
        var engine = model.CreateSpecialist(fx.AdapterA, 1f, LlamaFixture.Options);
        Assert.Equal(1, model.LiveEngines);

        Assert.Throws<InvalidOperationException>(model.Dispose);
        Assert.Equal(FinishReason.Length, (await LlamaFixture.RunAsync(engine, Greedy)).Final.FinishReason);

        await engine.DisposeAsync();
        Assert.Equal(0, model.LiveEngines);
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.CreateEngine(LlamaFixture.Options));
    }

    [Fact]
    public async Task Loading_a_lora_file_as_a_model_is_refused()
    {
        var e = await Assert.ThrowsAsync<ModelLoadException>(() => LlamaModel.LoadAsync(fx.AdapterA));
        Assert.Contains("LoRA adapter", e.Message, StringComparison.Ordinal);
    }
}
