namespace Sios.Brains.Synth;

/// <summary>Shape and seed of a synthesized llama-architecture model.</summary>
public sealed partial record TinyModelOptions
{
    /// <summary>Number of transformer blocks.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Width of the residual stream (n_embd).</summary>
    public int Embedding { get; init; } = 64;

    /// <summary>Number of attention (query) heads.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>Number of key/value heads (grouped-query attention when below <see cref="Heads"/>).</summary>
    public int KvHeads { get; init; } = 4;

    /// <summary>Hidden width of the SwiGLU feed-forward block.</summary>
    public int FeedForward { get; init; } = 128;

    /// <summary>Training context length recorded in the metadata.</summary>
    public int Context { get; init; } = 512;

    /// <summary>Seed of the weights: the same options and seed give the same file, byte for byte.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Store the matrices as f16 instead of f32 (norm vectors stay f32).</summary>
    public bool F16 { get; init; }

    /// <summary>Write the ChatML template into <c>tokenizer.chat_template</c> (off to model a template-less GGUF).</summary>
    public bool ChatTemplate { get; init; } = true;

    /// <summary>
    /// A chat template to store instead of ChatML (a real model's, say); its special tokens (<see cref="TemplateTokens"/>)
    /// join the vocabulary as control tokens, so the template's markers are single tokens as in the real model.
    /// </summary>
    public string? Template { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        Require(Template is null || (Template.Length is > 0 and <= 1 << 20 && ChatTemplate), nameof(Template), "must be 1 byte to 1 MiB of template text, with ChatTemplate on");
        Require(Layers is >= 1 and <= 256, nameof(Layers), "must be between 1 and 256");
        Require(Embedding is >= 8 and <= 16384, nameof(Embedding), "must be between 8 and 16384");
        Require(Heads >= 1 && Embedding % Heads == 0, nameof(Heads), $"must divide Embedding ({Embedding})");
        Require((Embedding / Math.Max(Heads, 1)) % 2 == 0, nameof(Heads), "must leave an even head dimension (RoPE rotates pairs)");
        Require(KvHeads >= 1 && KvHeads <= Heads && Heads % KvHeads == 0, nameof(KvHeads), $"must divide Heads ({Heads})");
        Require(FeedForward is >= 1 and <= 65536, nameof(FeedForward), "must be between 1 and 65536");
        Require(Context is >= 16 and <= 1 << 20, nameof(Context), "must be between 16 and 1048576");
    }

    /// <summary>
    /// The special-token texts <paramref name="template"/> writes (<c>&lt;|…|&gt;</c>, <c>&lt;tag&gt;</c>/<c>&lt;/tag&gt;</c>
    /// and <c>[UPPER_CASE]</c> markers in its string literals), in order of first appearance.
    /// </summary>
    public static IReadOnlyList<string> TemplateTokens(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var found = new List<string>();
        foreach (System.Text.RegularExpressions.Match m in SpecialPattern().Matches(template))
        {
            if (!found.Contains(m.Value, StringComparer.Ordinal) && found.Count < 256)
            {
                found.Add(m.Value);
            }
        }

        return found;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"<\|[A-Za-z0-9_.:\-]{1,40}\|>|</?[a-z][a-z_]{1,30}>|\[/?[A-Z][A-Z_]{2,30}\]")]
    private static partial System.Text.RegularExpressions.Regex SpecialPattern();

    private static void Require(bool ok, string field, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"TinyModelOptions.{field} {rule}.", field);
        }
    }
}

/// <summary>Rank, strength, targets and seed of a synthesized LoRA adapter.</summary>
public sealed record LoraOptions
{
    /// <summary>Inner rank r of the A·B update.</summary>
    public int Rank { get; init; } = 4;

    /// <summary>LoRA alpha; llama.cpp scales the update by alpha / rank.</summary>
    public float Alpha { get; init; } = 8;

    /// <summary>Seed of the adapter weights.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Also adapt the key and output projections, not only query and value.</summary>
    public bool AllAttention { get; init; }

    /// <summary>Scale of the random A and B entries; large enough that the adapter visibly moves the output.</summary>
    public float Strength { get; init; } = 0.5f;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        if (Rank is < 1 or > 1024)
        {
            throw new ArgumentException("LoraOptions.Rank must be between 1 and 1024.", nameof(Rank));
        }

        if (!float.IsFinite(Alpha) || Alpha <= 0)
        {
            throw new ArgumentException("LoraOptions.Alpha must be a positive number.", nameof(Alpha));
        }

        if (!float.IsFinite(Strength) || Strength <= 0)
        {
            throw new ArgumentException("LoraOptions.Strength must be a positive number.", nameof(Strength));
        }
    }
}
