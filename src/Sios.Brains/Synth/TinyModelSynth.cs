using System.Globalization;
using Sios.Verify;

namespace Sios.Brains.Synth;

/// <summary>
/// Writes small llama-architecture GGUF models with random weights and a byte-level ChatML vocabulary, and LoRA
/// adapters for them. No real weights can be fetched here, so tests, benchmarks and the demo run on these; the
/// loading code is the same as for a real model.
/// </summary>
public static class TinyModelSynth
{
    private const string Arch = "llama";

    /// <summary>Writes a model shaped by <paramref name="o"/> to <paramref name="path"/>.</summary>
    public static void WriteModel(string path, TinyModelOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        BuildModel(o).WriteTo(path);
    }

    /// <summary>Writes a model shaped by <paramref name="o"/> to <paramref name="stream"/>.</summary>
    public static void WriteModel(Stream stream, TinyModelOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        BuildModel(o).WriteTo(stream);
    }

    /// <summary>
    /// Writes a LoRA adapter for the model at <paramref name="basePath"/>: A/B pairs for the query and value
    /// projections of every block (and key/output with <see cref="LoraOptions.AllAttention"/>), shaped from
    /// the base's own tensor table so llama.cpp accepts it for that base.
    /// </summary>
    /// <exception cref="FormatViolationException">The base is not a llama-architecture GGUF model.</exception>
    public static void WriteLoraAdapter(string path, string basePath, LoraOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        o.Validate();
        var baseHeader = GgufHeader.Read(basePath);
        var arch = baseHeader.GetString("general.architecture");
        if (arch != Arch)
        {
            throw new FormatViolationException($"'{basePath}' has architecture '{arch ?? "(none)"}'; adapters are synthesized for '{Arch}' models only.");
        }

        var layers = baseHeader.GetUnsigned($"{Arch}.block_count")
            ?? throw new FormatViolationException($"'{basePath}' has no {Arch}.block_count.");

        var w = new GgufWriter();
        w.AddString("general.architecture", Arch)
            .AddString("general.type", "adapter")
            .AddString("general.name", "sios-tiny-lora")
            .AddString("adapter.type", "lora")
            .AddFloat32("adapter.lora.alpha", o.Alpha)
            .AddString("sios.synth.seed", o.Seed.ToString(CultureInfo.InvariantCulture));

        string[] targets = o.AllAttention ? ["attn_q", "attn_k", "attn_v", "attn_output"] : ["attn_q", "attn_v"];
        for (var layer = 0UL; layer < layers; layer++)
        {
            foreach (var target in targets)
            {
                var name = $"blk.{layer}.{target}.weight";
                var weight = baseHeader.FindTensor(name)
                    ?? throw new FormatViolationException($"'{basePath}' has no tensor '{name}' to adapt.");
                if (weight.Shape.Count != 2)
                {
                    throw new FormatViolationException($"'{basePath}': '{name}' is not a matrix.");
                }

                long input = weight.Shape[0], output = weight.Shape[1];
                var bound = o.Strength / MathF.Sqrt(input);
                w.AddTensor(name + ".lora_a", GgufTensorType.F32, [input, o.Rank],
                    () => SeededRandom.ForStream(o.Seed, name + ".lora_a").Uniform(input * o.Rank, bound));
                w.AddTensor(name + ".lora_b", GgufTensorType.F32, [o.Rank, output],
                    () => SeededRandom.ForStream(o.Seed, name + ".lora_b").Uniform(o.Rank * output, o.Strength));
            }
        }

        w.WriteTo(path);
    }

    private static GgufWriter BuildModel(TinyModelOptions o)
    {
        o.Validate();
        var headDim = o.Embedding / o.Heads;
        var kvWidth = headDim * o.KvHeads;
        var matrix = o.F16 ? GgufTensorType.F16 : GgufTensorType.F32;

        var (tokens, types) = ByteVocabulary.With(o.Template is null ? [] : TinyModelOptions.TemplateTokens(o.Template));
        var (bos, eos) = SpecialIds(tokens, o.Template);
        var w = new GgufWriter();
        w.AddString("general.architecture", Arch)
            .AddString("general.type", "model")
            .AddString("general.name", "sios-tiny")
            .AddUInt32("general.file_type", o.F16 ? 1u : 0u)
            .AddString("sios.synth.seed", o.Seed.ToString(CultureInfo.InvariantCulture))
            .AddUInt32($"{Arch}.vocab_size", (uint)tokens.Count)
            .AddUInt32($"{Arch}.context_length", (uint)o.Context)
            .AddUInt32($"{Arch}.embedding_length", (uint)o.Embedding)
            .AddUInt32($"{Arch}.block_count", (uint)o.Layers)
            .AddUInt32($"{Arch}.feed_forward_length", (uint)o.FeedForward)
            .AddUInt32($"{Arch}.attention.head_count", (uint)o.Heads)
            .AddUInt32($"{Arch}.attention.head_count_kv", (uint)o.KvHeads)
            .AddFloat32($"{Arch}.attention.layer_norm_rms_epsilon", 1e-5f)
            .AddUInt32($"{Arch}.rope.dimension_count", (uint)headDim)
            .AddFloat32($"{Arch}.rope.freq_base", 10000f)
            .AddString("tokenizer.ggml.model", "gpt2")
            .AddString("tokenizer.ggml.pre", "gpt-2")
            .AddStringArray("tokenizer.ggml.tokens", tokens)
            .AddInt32Array("tokenizer.ggml.token_type", types)
            .AddStringArray("tokenizer.ggml.merges", [])
            .AddUInt32("tokenizer.ggml.bos_token_id", (uint)bos)
            .AddUInt32("tokenizer.ggml.eos_token_id", (uint)eos)
            .AddUInt32("tokenizer.ggml.padding_token_id", ByteVocabulary.EndOfTextId)
            .AddBool("tokenizer.ggml.add_bos_token", false)
            .AddBool("tokenizer.ggml.add_eos_token", false);
        if (o.ChatTemplate)
        {
            w.AddString("tokenizer.chat_template", o.Template ?? ByteVocabulary.ChatMlTemplate);
        }

        long embd = o.Embedding, ff = o.FeedForward, vocab = tokens.Count;
        var seed = o.Seed;
        var residual = 1f / MathF.Sqrt(embd);

        w.AddTensor("token_embd.weight", matrix, [embd, vocab], () => Random(seed, "token_embd.weight", embd * vocab, 1f));
        for (var i = 0; i < o.Layers; i++)
        {
            var p = $"blk.{i}.";
            w.AddTensor(p + "attn_norm.weight", GgufTensorType.F32, [embd], () => Ones(embd));
            w.AddTensor(p + "attn_q.weight", matrix, [embd, embd], () => Random(seed, p + "attn_q.weight", embd * embd, residual * 2));
            w.AddTensor(p + "attn_k.weight", matrix, [embd, kvWidth], () => Random(seed, p + "attn_k.weight", embd * kvWidth, residual * 2));
            w.AddTensor(p + "attn_v.weight", matrix, [embd, kvWidth], () => Random(seed, p + "attn_v.weight", embd * kvWidth, residual));
            w.AddTensor(p + "attn_output.weight", matrix, [embd, embd], () => Random(seed, p + "attn_output.weight", embd * embd, residual));
            w.AddTensor(p + "ffn_norm.weight", GgufTensorType.F32, [embd], () => Ones(embd));
            w.AddTensor(p + "ffn_gate.weight", matrix, [embd, ff], () => Random(seed, p + "ffn_gate.weight", embd * ff, residual));
            w.AddTensor(p + "ffn_up.weight", matrix, [embd, ff], () => Random(seed, p + "ffn_up.weight", embd * ff, residual));
            w.AddTensor(p + "ffn_down.weight", matrix, [ff, embd], () => Random(seed, p + "ffn_down.weight", ff * embd, 1f / MathF.Sqrt(ff)));
        }

        w.AddTensor("output_norm.weight", GgufTensorType.F32, [embd], () => Ones(embd));
        w.AddTensor("output.weight", matrix, [embd, vocab], () => OutputWeights(seed, embd, vocab));
        return w;
    }

    /// <summary>
    /// BOS and EOS as the template's family has them: Llama 3's begin_of_text / eot_id, the SentencePiece
    /// <c>&lt;s&gt;</c> / <c>&lt;/s&gt;</c> of Mistral and Llama 2, else ChatML's endoftext / im_end.
    /// </summary>
    private static (int Bos, int Eos) SpecialIds(IReadOnlyList<string> tokens, string? template)
    {
        int Id(string text) => tokens.ToList().IndexOf(text);
        if (template is not null && Id("<|eot_id|>") is >= 0 and var eot)
        {
            return (Id("<|begin_of_text|>") is >= 0 and var begin ? begin : ByteVocabulary.EndOfTextId, eot);
        }

        if (template is not null && !template.Contains("<|im_end|>", StringComparison.Ordinal) && Id("</s>") is >= 0 and var end)
        {
            return (Id("<s>") is >= 0 and var start ? start : ByteVocabulary.EndOfTextId, end);
        }

        return (ByteVocabulary.EndOfTextId, ByteVocabulary.ImEndId);
    }

    private static float[] Random(ulong seed, string tensor, long count, float bound) =>
        SeededRandom.ForStream(seed, tensor).Uniform(count, bound);

    private static float[] Ones(long count)
    {
        var values = new float[count];
        Array.Fill(values, 1f);
        return values;
    }

    /// <summary>
    /// Rows of the unembedding are zero for control tokens, bytes above 0x7F and ASCII control characters other
    /// than newline, so their logit is 0 while printable ASCII logits spread around it: generations then run
    /// to max_tokens as readable text instead of ending on a random end-of-turn or emitting invalid UTF-8.
    /// </summary>
    private static float[] OutputWeights(ulong seed, long embd, long vocab)
    {
        var values = Random(seed, "output.weight", embd * vocab, 5f / MathF.Sqrt(embd));
        for (var token = 0; token < vocab; token++)
        {
            var printable = token is '\n' or (>= 0x20 and < 0x7F);
            if (!printable)
            {
                Array.Clear(values, (int)(token * embd), (int)embd);
            }
        }

        return values;
    }
}
