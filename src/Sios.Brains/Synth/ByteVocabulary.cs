namespace Sios.Brains.Synth;

/// <summary>
/// The byte-level vocabulary of synthesized models: the 256 bytes in GPT-2's printable byte encoding, so
/// llama.cpp's BPE tokenizer maps any UTF-8 text to one token per byte with no merges, followed by the
/// ChatML control tokens.
/// </summary>
public static class ByteVocabulary
{
    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>, used as BOS and padding.</summary>
    public const int EndOfTextId = 256;

    /// <summary>Id of <c>&lt;|im_start|&gt;</c>.</summary>
    public const int ImStartId = 257;

    /// <summary>Id of <c>&lt;|im_end|&gt;</c>, the end-of-turn token and EOS.</summary>
    public const int ImEndId = 258;

    /// <summary>Number of tokens.</summary>
    public const int Size = 259;

    /// <summary>ggml token type for ordinary tokens.</summary>
    public const int NormalType = 1;

    /// <summary>ggml token type for control tokens.</summary>
    public const int ControlType = 3;

    /// <summary>The ChatML chat template stored in <c>tokenizer.chat_template</c>.</summary>
    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>
    /// The vocabulary with <paramref name="specials"/> appended as control tokens (those already in it are skipped):
    /// token texts and types in id order.
    /// </summary>
    public static (IReadOnlyList<string> Tokens, IReadOnlyList<int> Types) With(IEnumerable<string> specials)
    {
        ArgumentNullException.ThrowIfNull(specials);
        var tokens = Tokens.ToList();
        var types = TokenTypes.ToList();
        foreach (var special in specials)
        {
            if (!tokens.Contains(special, StringComparer.Ordinal))
            {
                tokens.Add(special);
                types.Add(ControlType);
            }
        }

        return (tokens, types);
    }

    /// <summary>Token texts in id order.</summary>
    public static IReadOnlyList<string> Tokens { get; } = BuildTokens();

    /// <summary>Token types in id order (normal for bytes, control for the special tokens).</summary>
    public static IReadOnlyList<int> TokenTypes { get; } =
        [.. Enumerable.Repeat(NormalType, 256), ControlType, ControlType, ControlType];

    /// <summary>
    /// The text GPT-2's byte encoding gives byte <paramref name="b"/>: printable Latin-1 bytes stand for
    /// themselves, the others are moved to code points from U+0100 up so every token is visible text.
    /// </summary>
    public static string ByteToken(byte b)
    {
        if (IsSelfMapped(b))
        {
            return ((char)b).ToString();
        }

        var shifted = 0;
        for (var i = 0; i < b; i++)
        {
            if (!IsSelfMapped((byte)i))
            {
                shifted++;
            }
        }

        return ((char)(256 + shifted)).ToString();
    }

    private static bool IsSelfMapped(byte b) => b is >= (byte)'!' and <= (byte)'~' or >= 0xA1 and <= 0xAC or >= 0xAE;

    private static string[] BuildTokens()
    {
        var tokens = new string[Size];
        for (var b = 0; b < 256; b++)
        {
            tokens[b] = ByteToken((byte)b);
        }

        tokens[EndOfTextId] = "<|endoftext|>";
        tokens[ImStartId] = "<|im_start|>";
        tokens[ImEndId] = "<|im_end|>";
        return tokens;
    }
}
