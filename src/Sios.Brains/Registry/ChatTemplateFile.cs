using System.Security.Cryptography;
using System.Text;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Prompts;
using Sios.Brains.Synth;

namespace Sios.Brains.Registry;

/// <summary>
/// An operator-supplied chat template file, pinned by digest like the weights: tried when the brain is added, and read
/// for a load only as the bytes whose digest matches the pin, so a template changed after it was pinned never reaches
/// the model.
/// </summary>
public static class ChatTemplateFile
{
    /// <summary>Largest template file accepted.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>
    /// Reads the template at <paramref name="path"/>, checks it against <paramref name="expected"/> when given, and
    /// renders a probe with it (with <paramref name="header"/>'s BOS/EOS texts); returns its digest.
    /// </summary>
    /// <exception cref="WeightMismatchException">The file differs from <paramref name="expected"/> or is gone.</exception>
    /// <exception cref="ModelLoadException">The file is not a usable template (too large, not UTF-8, or a construct this server cannot render, named).</exception>
    public static string Check(string path, GgufHeader header, string? expected)
    {
        ArgumentNullException.ThrowIfNull(header);
        var (text, digest) = ReadText(path, expected);
        var (bos, eos) = PromptTemplate.SpecialTokenTexts(header);
        _ = PromptTemplate.Load(text, bos, eos, path);
        return digest;
    }

    /// <summary>The text of the template at <paramref name="path"/>, whose bytes must have the digest <paramref name="expected"/>.</summary>
    /// <exception cref="WeightMismatchException">The file differs from the pin or is gone.</exception>
    /// <exception cref="ModelLoadException">The file is too large or not UTF-8.</exception>
    public static string Read(string path, string expected) => ReadText(path, expected).Text;

    private static (string Text, string Digest) ReadText(string path, string? expected)
    {
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (file.Length > MaxBytes)
            {
                throw new ModelLoadException($"The chat template '{path}' is {file.Length} bytes; a template is at most {MaxBytes} bytes.");
            }

            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw expected is null
                ? new ModelLoadException($"The chat template '{path}' does not exist.", e)
                : new WeightMismatchException(path, expected, null, "chat template");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"The chat template '{path}' cannot be read: {e.Message}", e);
        }

        var digest = WeightDigest.Format(SHA256.HashData(bytes));
        if (expected is not null && !string.Equals(digest, expected, StringComparison.Ordinal))
        {
            throw new WeightMismatchException(path, expected, digest, "chat template");
        }

        try
        {
            return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes), digest);
        }
        catch (DecoderFallbackException e)
        {
            throw new ModelLoadException($"The chat template '{path}' is not UTF-8 text.", e);
        }
    }
}
