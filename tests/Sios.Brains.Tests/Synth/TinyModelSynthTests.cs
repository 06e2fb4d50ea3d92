using System.Security.Cryptography;
using Sios.Brains.Synth;
using Sios.Verify;

namespace Sios.Brains.Tests.Synth;

public sealed class TinyModelSynthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sios-synth-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Same_options_and_seed_give_identical_bytes(bool f16)
    {
        var o = new TinyModelOptions { Seed = 11, F16 = f16 };
        TinyModelSynth.WriteModel(PathOf("a.gguf"), o);
        TinyModelSynth.WriteModel(PathOf("b.gguf"), o);
        TinyModelSynth.WriteModel(PathOf("c.gguf"), o with { Seed = 12 });

        Assert.Equal(Sha256(PathOf("a.gguf")), Sha256(PathOf("b.gguf")));
        Assert.NotEqual(Sha256(PathOf("a.gguf")), Sha256(PathOf("c.gguf")));
    }

    [Fact]
    public void Model_has_llama_metadata_byte_vocabulary_template_and_tensors()
    {
        var o = new TinyModelOptions { Layers = 3, Embedding = 32, Heads = 4, KvHeads = 2, FeedForward = 48 };
        TinyModelSynth.WriteModel(PathOf("m.gguf"), o);
        var r = new TestGgufReader(File.ReadAllBytes(PathOf("m.gguf")));

        Assert.Equal("llama", r["general.architecture"]);
        Assert.Equal(32u, r["llama.embedding_length"]);
        Assert.Equal(3u, r["llama.block_count"]);
        Assert.Equal(2u, r["llama.attention.head_count_kv"]);
        Assert.Equal("gpt2", r["tokenizer.ggml.model"]);
        Assert.Contains("<|im_start|>", (string)r["tokenizer.chat_template"]);
        var tokens = ((object[])r["tokenizer.ggml.tokens"]).Cast<string>().ToArray();
        Assert.Equal(ByteVocabulary.Size, tokens.Length);
        Assert.Equal(tokens.Length, tokens.Distinct().Count());
        Assert.Equal("\u0120", tokens[' ']);
        Assert.Equal("\u010A", tokens['\n']);
        Assert.Equal("A", tokens['A']);
        Assert.Equal("<|im_end|>", tokens[(uint)r["tokenizer.ggml.eos_token_id"]]);
        Assert.Equal(3, ((object[])r["tokenizer.ggml.token_type"])[ByteVocabulary.ImStartId]);

        Assert.Equal(3 + (9 * 3), r.Tensors.Count);
        var k = r.Tensors.Single(t => t.Name == "blk.2.attn_k.weight");
        Assert.Equal([32UL, 16UL], k.Dims);
        var output = r.Tensors.Single(t => t.Name == "output.weight");
        Assert.Equal([32UL, (ulong)ByteVocabulary.Size], output.Dims);
        var rows = r.ReadF32(output);
        Assert.All(rows.AsSpan(ByteVocabulary.ImEndId * 32, 32).ToArray(), v => Assert.Equal(0f, v));
        Assert.Contains(rows.AsSpan('a' * 32, 32).ToArray(), v => v != 0f);
    }

    [Fact]
    public void Model_without_template_omits_the_key()
    {
        TinyModelSynth.WriteModel(PathOf("n.gguf"), new TinyModelOptions { ChatTemplate = false });
        Assert.False(new TestGgufReader(File.ReadAllBytes(PathOf("n.gguf"))).Has("tokenizer.chat_template"));
    }

    [Fact]
    public void Lora_adapter_pairs_match_the_base_shapes()
    {
        TinyModelSynth.WriteModel(PathOf("base.gguf"), new TinyModelOptions { Embedding = 32, Heads = 4, KvHeads = 2 });
        TinyModelSynth.WriteLoraAdapter(PathOf("lora.gguf"), PathOf("base.gguf"), new LoraOptions { Rank = 3, Alpha = 6 });
        var r = new TestGgufReader(File.ReadAllBytes(PathOf("lora.gguf")));

        Assert.Equal("adapter", r["general.type"]);
        Assert.Equal("lora", r["adapter.type"]);
        Assert.Equal(6f, r["adapter.lora.alpha"]);
        Assert.Equal(2 * 2 * 2, r.Tensors.Count);
        var qa = r.Tensors.Single(t => t.Name == "blk.1.attn_q.weight.lora_a");
        var qb = r.Tensors.Single(t => t.Name == "blk.1.attn_q.weight.lora_b");
        var vb = r.Tensors.Single(t => t.Name == "blk.0.attn_v.weight.lora_b");
        Assert.Equal([32UL, 3UL], qa.Dims);
        Assert.Equal([3UL, 32UL], qb.Dims);
        Assert.Equal([3UL, 16UL], vb.Dims);

        TinyModelSynth.WriteLoraAdapter(PathOf("all.gguf"), PathOf("base.gguf"), new LoraOptions { AllAttention = true });
        Assert.Equal(2 * 4 * 2, new TestGgufReader(File.ReadAllBytes(PathOf("all.gguf"))).Tensors.Count);
    }

    [Fact]
    public void Lora_for_a_non_model_base_is_refused()
    {
        File.WriteAllText(PathOf("text.gguf"), "not a model at all, just text");
        Assert.Throws<FormatViolationException>(() => TinyModelSynth.WriteLoraAdapter(PathOf("x.gguf"), PathOf("text.gguf"), new LoraOptions()));
    }

    [Theory]
    [InlineData(0, 64, 4, 4)]
    [InlineData(2, 64, 5, 5)]
    [InlineData(2, 64, 4, 3)]
    [InlineData(2, 60, 20, 20)]
    public void Inconsistent_shapes_are_rejected(int layers, int embd, int heads, int kvHeads)
    {
        var o = new TinyModelOptions { Layers = layers, Embedding = embd, Heads = heads, KvHeads = kvHeads };
        Assert.Throws<ArgumentException>(() => TinyModelSynth.WriteModel(PathOf("bad.gguf"), o));
        Assert.False(File.Exists(PathOf("bad.gguf")));
    }

    [Fact]
    public void Seeded_random_is_reproducible_and_bounded()
    {
        var a = SeededRandom.ForStream(5, "t").Uniform(1000, 0.5f);
        var b = SeededRandom.ForStream(5, "t").Uniform(1000, 0.5f);
        var c = SeededRandom.ForStream(5, "u").Uniform(1000, 0.5f);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.InRange(v, -0.5f, 0.5f));
        Assert.InRange(a.Average(), -0.05, 0.05);
    }
}
