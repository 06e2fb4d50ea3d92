using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Brains.Synth;

namespace Sios.Brains.Tests.Registry;

/// <summary>A brain is registered only with a GGUF model and, if any, a LoRA adapter for it; nothing is sealed otherwise.</summary>
public sealed class WeightFilesTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly RecordingSealer _sealer = new();

    public void Dispose() => _folder.Dispose();

    private string Gguf(string name, Action<GgufWriter> metadata)
    {
        var writer = new GgufWriter();
        metadata(writer);
        writer.WriteTo(_folder.File(name));
        return _folder.File(name);
    }

    private string File(string name, byte[] bytes)
    {
        System.IO.File.WriteAllBytes(_folder.File(name), bytes);
        return _folder.File(name);
    }

    public static TheoryData<string, string> NotAModel => new()
    {
        { "text", "cannot be used: 'text' is not a GGUF file" },
        { "empty", "is empty, or not a regular file" },
        { "folder", "is a folder" },
        { "missing", "does not exist" },
        { "adapter", "is a LoRA adapter, not a model" },
        { "no-architecture", "names no architecture" },
        { "version-1", "only versions 2 and 3 are supported" },
    };

    [Theory]
    [MemberData(nameof(NotAModel))]
    public async Task A_model_path_that_is_not_a_gguf_model_is_refused_before_anything_is_sealed(string kind, string expected)
    {
        var path = kind switch
        {
            "text" => File("text", "# not a model, just some text that is long enough\n"u8.ToArray()),
            "empty" => File("empty", []),
            "folder" => Directory.CreateDirectory(_folder.File("folder")).FullName,
            "missing" => _folder.File("missing"),
            "adapter" => _folder.RandomAdapter("adapter", 100),
            "no-architecture" => Gguf("no-architecture", w => w.AddString("general.type", "model")),
            _ => File("version-1", [(byte)'G', (byte)'G', (byte)'U', (byte)'F', 1, 0, 0, 0, .. new byte[32]]),
        };
        var e = await Assert.ThrowsAsync<ModelLoadException>(() => new BrainRegistry(_folder.Path, _sealer.Seal).AddAsync(new BrainManifest { Name = "x", ModelPath = path }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(_sealer.Entries);
        Assert.False(System.IO.File.Exists(Path.Combine(_folder.Path, BrainRegistry.FileName)));
    }

    public static TheoryData<string, string> NotItsAdapter => new()
    {
        { "model", "is not a LoRA adapter" },
        { "other-kind", "is not a LoRA adapter" },
        { "other-architecture", "is for architecture 'qwen2', but its base" },
        { "wrong-shape", "has the wrong shape" },
        { "one-dimensional", "has the wrong shape" },
    };

    [Theory]
    [MemberData(nameof(NotItsAdapter))]
    public async Task An_adapter_that_is_not_a_lora_for_the_model_is_refused_before_anything_is_sealed(string kind, string expected)
    {
        var model = _folder.File("base.gguf");
        TinyModelSynth.WriteModel(model, new TinyModelOptions { Layers = 1, Embedding = 32, Seed = 1 });
        var adapter = kind switch
        {
            "model" => _folder.RandomModel("model", 100),
            "other-kind" => Gguf("other-kind", w => w.AddString("general.architecture", "llama").AddString("general.type", "adapter").AddString("adapter.type", "control_vector")),
            "other-architecture" => Gguf("other-architecture", w => w.AddString("general.architecture", "qwen2").AddString("general.type", "adapter").AddString("adapter.type", "lora")),
            "one-dimensional" => Gguf("one-dimensional", w => w.AddString("general.architecture", "llama").AddString("general.type", "adapter").AddString("adapter.type", "lora")
                .AddTensor("token_embd.weight.lora_a", GgufTensorType.F32, [4], new float[4])
                .AddTensor("token_embd.weight.lora_b", GgufTensorType.F32, [4], new float[4])),
            _ => WrongShape(),
        };
        var e = await Assert.ThrowsAsync<ModelLoadException>(() => new BrainRegistry(_folder.Path, _sealer.Seal).AddAsync(new BrainManifest { Name = "x", ModelPath = model, AdapterPath = adapter }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Empty(_sealer.Entries);

        string WrongShape()
        {
            // A LoRA trained on a base of another width.
            var other = _folder.File("other-base.gguf");
            TinyModelSynth.WriteModel(other, new TinyModelOptions { Layers = 1, Embedding = 64, Seed = 2 });
            TinyModelSynth.WriteLoraAdapter(_folder.File("wrong-shape"), other, new LoraOptions { Seed = 3 });
            return _folder.File("wrong-shape");
        }
    }

    [Fact]
    public async Task A_model_and_its_own_lora_are_registered()
    {
        var model = _folder.File("base.gguf");
        TinyModelSynth.WriteModel(model, new TinyModelOptions { Layers = 1, Embedding = 32, Seed = 1 });
        TinyModelSynth.WriteLoraAdapter(_folder.File("lora.gguf"), model, new LoraOptions { Seed = 4 });
        await new BrainRegistry(_folder.Path, _sealer.Seal).AddAsync(new BrainManifest { Name = "x", ModelPath = model, AdapterPath = _folder.File("lora.gguf") });
        Assert.Single(_sealer.Entries);
    }
}
