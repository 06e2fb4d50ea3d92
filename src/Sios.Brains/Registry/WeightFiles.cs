using Sios.Brains.Engines;
using Sios.Brains.Synth;
using Sios.Verify;

namespace Sios.Brains.Registry;

/// <summary>
/// What a local brain's files must be, checked before a brain is registered (so nothing is sealed for a file that
/// could never load) and again before llama.cpp is handed one: a readable GGUF v2/v3 model with an architecture, and
/// optionally a LoRA adapter made for that model. Every refusal is a <see cref="ModelLoadException"/> whose one-line
/// message names the file and what is wrong with it.
/// </summary>
public static class WeightFiles
{
    /// <summary>The smallest file that can hold a GGUF header (magic, version and the two counts).</summary>
    private const int MinimumLength = 24;

    /// <summary>Reads and checks the model file at <paramref name="path"/> (a full path); returns its header.</summary>
    /// <exception cref="ModelLoadException">The file is missing, unreadable, not GGUF, an adapter, or names no architecture.</exception>
    public static GgufHeader ReadModel(string path)
    {
        var header = ReadHeader(path, "model");
        if (header.GetString("general.type") is "adapter")
        {
            throw new ModelLoadException($"the model file {path} is a LoRA adapter, not a model; register it as the adapter of the base model it was trained on");
        }

        if (header.GetString("general.architecture") is not { Length: > 0 })
        {
            throw new ModelLoadException($"the model file {path} names no architecture (general.architecture), so llama.cpp cannot load it as a model");
        }

        return header;
    }

    /// <summary>Reads the adapter file at <paramref name="path"/> (a full path) and checks it against its base (see <see cref="CheckAdapter"/>).</summary>
    /// <exception cref="ModelLoadException">The file is missing, unreadable, not GGUF, or not a LoRA adapter for this base.</exception>
    public static GgufHeader ReadAdapter(string path, GgufHeader model, string modelPath)
    {
        var header = ReadHeader(path, "LoRA adapter");
        CheckAdapter(path, header, model, modelPath);
        return header;
    }

    /// <summary>
    /// Checks that <paramref name="adapter"/> is a LoRA adapter (general.type <c>adapter</c>, adapter.type
    /// <c>lora</c>) for the architecture of <paramref name="model"/>, and that each pair of its tensors adapts a tensor
    /// the base has, in that tensor's dimensions: llama.cpp signals a mismatch with a null handle that crashes on use.
    /// </summary>
    /// <exception cref="ModelLoadException">It is not such an adapter.</exception>
    public static void CheckAdapter(string path, GgufHeader adapter, GgufHeader model, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        ArgumentNullException.ThrowIfNull(model);
        if (adapter.GetString("general.type") != "adapter" || adapter.GetString("adapter.type") != "lora")
        {
            throw new ModelLoadException($"the adapter file {path} is not a LoRA adapter (general.type must be 'adapter' and adapter.type 'lora')");
        }

        var arch = adapter.GetString("general.architecture");
        var baseArch = model.GetString("general.architecture");
        if (arch != baseArch)
        {
            throw new ModelLoadException($"the LoRA adapter {path} is for architecture '{arch}', but its base {modelPath} is '{baseArch}'");
        }

        var pairs = new Dictionary<string, (GgufTensorInfo? A, GgufTensorInfo? B)>(StringComparer.Ordinal);
        foreach (var t in adapter.Tensors)
        {
            if (t.Name.EndsWith(".lora_a", StringComparison.Ordinal))
            {
                var key = t.Name[..^7];
                pairs[key] = (t, pairs.GetValueOrDefault(key).B);
            }
            else if (t.Name.EndsWith(".lora_b", StringComparison.Ordinal))
            {
                var key = t.Name[..^7];
                pairs[key] = (pairs.GetValueOrDefault(key).A, t);
            }
            else if (!t.Name.EndsWith("_norm.weight", StringComparison.Ordinal))
            {
                throw new ModelLoadException($"the LoRA adapter {path} has a tensor '{t.Name}' that is neither lora_a nor lora_b");
            }
        }

        foreach (var (name, (a, b)) in pairs)
        {
            if (a is null || b is null)
            {
                throw new ModelLoadException($"the LoRA adapter {path} has only one half of the pair for '{name}'");
            }

            var target = model.FindTensor(name)
                ?? throw new ModelLoadException($"the LoRA adapter {path} adapts '{name}', which its base {modelPath} does not have (wrong base model?)");
            // A crafted header may give any number of dimensions: every index below is checked for before it is read.
            var shapeOk = a.Shape.Count == 2 && b.Shape.Count == 2 && target.Shape.Count >= 2
                && (name.EndsWith("token_embd.weight", StringComparison.Ordinal)
                    ? target.Shape[0] == b.Shape[1] && target.Shape[1] == a.Shape[1]
                    : target.Shape[0] == a.Shape[0] && target.Shape[1] == b.Shape[1] && a.Shape[1] == b.Shape[0]);
            if (!shapeOk)
            {
                throw new ModelLoadException($"the LoRA adapter {path} has the wrong shape for '{name}' (wrong base model?)");
            }
        }
    }

    private static GgufHeader ReadHeader(string path, string what)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new ModelLoadException($"the {what} path {path} is a folder; give the GGUF file inside it");
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new ModelLoadException($"the {what} file {path} does not exist");
        }

        // A FIFO or device reports no length: refusing it here also keeps the read below from blocking on one.
        if (info.Length < MinimumLength)
        {
            throw new ModelLoadException(info.Length == 0
                ? $"the {what} file {path} is empty, or not a regular file"
                : $"the {what} file {path} is {info.Length} bytes, too short to be a GGUF file");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            // The header reader names what it reads in its messages; the path is already in ours.
            return GgufHeader.Read(stream, System.IO.Path.GetFileName(path));
        }
        catch (FormatViolationException e)
        {
            throw new ModelLoadException($"the {what} file {path} cannot be used: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"the {what} file {path} cannot be read: {e.Message}", e);
        }
    }
}
