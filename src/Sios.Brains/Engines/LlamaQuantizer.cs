using System.Text.RegularExpressions;
using LLama;
using LLama.Native;
using Sios.Brains.Integrity;
using Sios.Ledger.Durable;

namespace Sios.Brains.Engines;

/// <summary>
/// Quantizes a GGUF model with llama.cpp's own quantizer (what <c>llama-quantize</c> runs), so a brain can be served in
/// the formats real deployments use. The result is written beside the output under a temporary name and published
/// (<see cref="DurableFile.TryPublish"/>) only once complete and on disk, so a crash or a failure never leaves a
/// half-written model under the name asked for, nor replaces a file that appeared meanwhile; its SHA-256 is what a
/// brain pins.
/// </summary>
public static partial class LlamaQuantizer
{
    private static readonly Lock s_gate = new();

    /// <summary>The types offered, by llama-quantize's names: those that need no importance matrix.</summary>
    public static IReadOnlyDictionary<string, LLamaFtype> Types { get; } = new Dictionary<string, LLamaFtype>(StringComparer.OrdinalIgnoreCase)
    {
        ["F16"] = LLamaFtype.MOSTLY_F16,
        ["BF16"] = LLamaFtype.MOSTLY_BF16,
        ["Q8_0"] = LLamaFtype.MOSTLY_Q8_0,
        ["Q6_K"] = LLamaFtype.MOSTLY_Q6_K,
        ["Q5_K_M"] = LLamaFtype.MOSTLY_Q5_K_M,
        ["Q5_K_S"] = LLamaFtype.MOSTLY_Q5_K_S,
        ["Q5_0"] = LLamaFtype.MOSTLY_Q5_0,
        ["Q5_1"] = LLamaFtype.MOSTLY_Q5_1,
        ["Q4_K_M"] = LLamaFtype.MOSTLY_Q4_K_M,
        ["Q4_K_S"] = LLamaFtype.MOSTLY_Q4_K_S,
        ["Q4_0"] = LLamaFtype.MOSTLY_Q4_0,
        ["Q4_1"] = LLamaFtype.MOSTLY_Q4_1,
        ["IQ4_NL"] = LLamaFtype.MOSTLY_IQ4_NL,
        ["IQ4_XS"] = LLamaFtype.MOSTLY_IQ4_XS,
        ["Q3_K_L"] = LLamaFtype.MOSTLY_Q3_K_L,
        ["Q3_K_M"] = LLamaFtype.MOSTLY_Q3_K_M,
        ["Q3_K_S"] = LLamaFtype.MOSTLY_Q3_K_S,
        ["Q2_K"] = LLamaFtype.MOSTLY_Q2_K,
    };

    /// <summary>
    /// Writes <paramref name="input"/> quantized to <paramref name="type"/> at <paramref name="output"/> (which must not
    /// exist) with <paramref name="threads"/> threads, reporting tensors done out of all; returns the result's digest.
    /// Throws <see cref="ArgumentException"/> for a bad type or path, <see cref="ModelLoadException"/> when llama.cpp
    /// refuses the input (with what it said). llama.cpp cannot be interrupted: cancelling abandons the result.
    /// </summary>
    public static async Task<string> QuantizeAsync(string input, string output, string type, int threads, IProgress<(int Done, int Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!Types.TryGetValue(type, out var ftype))
        {
            throw new ArgumentException($"'{type}' is not a type this quantizer offers; use one of {string.Join(", ", Types.Keys)}", nameof(type));
        }

        var source = Path.GetFullPath(input);
        var target = Path.GetFullPath(output);
        if (!File.Exists(source))
        {
            throw new ArgumentException($"{input}: no such file", nameof(input));
        }

        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new ArgumentException($"{output} exists already; the quantizer writes a new file only", nameof(output));
        }

        if (string.Equals(source, target, StringComparison.Ordinal))
        {
            throw new ArgumentException("the output must be another file than the input", nameof(output));
        }

        await using (var head = File.OpenRead(source))
        {
            var magic = new byte[4];
            if (await head.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) < 4 || !magic.AsSpan().SequenceEqual("GGUF"u8))
            {
                throw new ArgumentException($"{input} is not a GGUF file", nameof(input));
            }
        }

        var partial = target + ".partial";
        File.Delete(partial);
        LlamaNative.EnsureInstalled();
        try
        {
            await Task.Run(() => Run(source, partial, ftype, threads, progress), cancellationToken).ConfigureAwait(false);
            // The digest is of the bytes llama.cpp wrote, taken before any other process can see them under OUT.
            var digest = await WeightDigest.ComputeAsync(partial, cancellationToken: cancellationToken).ConfigureAwait(false);
            return DurableFile.TryPublish(partial, target)
                ? digest
                : throw new ArgumentException($"{output} appeared while quantizing; the quantizer writes a new file only", nameof(output));
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static void Run(string source, string partial, LLamaFtype ftype, int threads, IProgress<(int Done, int Total)>? progress)
    {
        // llama.cpp logs one line per tensor, "[  12/ 291] name - [shape], type = ...": the only progress it gives.
        lock (s_gate)
        {
            var mark = LlamaNative.Mark();
            LlamaNative.InfoObserver = line =>
            {
                if (TensorLine().Match(line) is { Success: true } match)
                {
                    progress?.Report((int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)));
                }
            };
            try
            {
                if (!LLamaQuantizer.Quantize(source, partial, ftype, threads, allowRequantize: true, quantizeOutputTensor: false))
                {
                    throw new ModelLoadException($"llama.cpp could not quantize {source}: {LlamaNative.ProblemsSince(mark)}");
                }
            }
            finally
            {
                LlamaNative.InfoObserver = null;
            }
        }
    }

    [GeneratedRegex(@"^\[\s*(\d+)/\s*(\d+)\]")]
    private static partial Regex TensorLine();
}
