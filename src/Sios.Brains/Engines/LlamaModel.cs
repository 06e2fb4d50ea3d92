using System.Reflection;
using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;
using Sios.Brains.Synth;

namespace Sios.Brains.Engines;

/// <summary>
/// Base weights loaded once into this process by llama.cpp, shared by every engine created from it: plain
/// engines and LoRA specialists each get their own context, never their own copy of the weights.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private static int s_loadCount;
    private readonly Dictionary<string, LoraAdapter> _adapters = new(StringComparer.Ordinal);
    private readonly Lock _adapterGate = new();
    private int _adapterLoads;
    private int _liveEngines;
    private bool _disposed;

    private LlamaModel(string path, LLamaWeights weights, GgufHeader header)
    {
        Path = path;
        Weights = weights;
        Header = header;
    }

    /// <summary>How many base models this process has loaded so far (adapters and contexts do not count).</summary>
    public static int LoadCount => Volatile.Read(ref s_loadCount);

    /// <summary>Full path of the GGUF file.</summary>
    public string Path { get; }

    /// <summary>The llama.cpp weights (one native model handle for the lifetime of this object).</summary>
    public LLamaWeights Weights { get; }

    /// <summary>The file's GGUF header, as read before the load.</summary>
    public GgufHeader Header { get; }

    /// <summary>Width of the residual stream, which is also the embedding length.</summary>
    public int EmbeddingSize => Weights.EmbeddingSize;

    /// <summary>The context length the model was trained with.</summary>
    public int TrainedContext => Weights.ContextSize;

    /// <summary>How many distinct adapter files have been loaded onto this base.</summary>
    public int AdapterLoadCount => Volatile.Read(ref _adapterLoads);

    /// <summary>
    /// Loads the GGUF at <paramref name="path"/>. The header is checked first (<see cref="Registry.WeightFiles"/>) so
    /// a file that is not a GGUF model fails with a <see cref="ModelLoadException"/> naming it, before llama.cpp sees it.
    /// </summary>
    /// <exception cref="ModelLoadException">The file is missing, not GGUF, or rejected by llama.cpp.</exception>
    public static async Task<LlamaModel> LoadAsync(string path, int gpuLayers = 0, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var header = Registry.WeightFiles.ReadModel(full);

        LlamaNative.EnsureInstalled();
        var parameters = new ModelParams(full) { GpuLayerCount = gpuLayers };
        var mark = LlamaNative.Mark();
        LLamaWeights weights;
        try
        {
            weights = await LLamaWeights.LoadFromFileAsync(parameters, ct).ConfigureAwait(false);
        }
        catch (LoadWeightsFailedException e)
        {
            throw new ModelLoadException($"llama.cpp could not load '{full}': {LlamaNative.ProblemsSince(mark)}.", e);
        }

        Interlocked.Increment(ref s_loadCount);
        return new LlamaModel(full, weights, header);
    }

    /// <summary>An engine on these weights with no adapter; see <see cref="LlamaEngine.LoadAsync"/> for the options.</summary>
    public LlamaEngine CreateEngine(LlamaEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var adapter = options.LoraAdapterPath is null ? null : GetAdapter(options.LoraAdapterPath);
        return new LlamaEngine(this, ownsModel: false, options, adapter);
    }

    /// <summary>Engines created from this model and not yet disposed.</summary>
    public int LiveEngines => Volatile.Read(ref _liveEngines);

    internal void EngineStarted()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Increment(ref _liveEngines);
    }

    internal void EngineStopped() => Interlocked.Decrement(ref _liveEngines);

    /// <summary>
    /// A specialist: an engine on these same weights with the LoRA adapter at <paramref name="adapterPath"/>
    /// applied at <paramref name="scale"/>. The adapter file is loaded once per model and reused.
    /// </summary>
    public LlamaEngine CreateSpecialist(string adapterPath, float scale, LlamaEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return CreateEngine(options with { LoraAdapterPath = adapterPath, LoraScale = scale });
    }

    /// <summary>
    /// The loaded adapter for <paramref name="adapterPath"/>, loading it on first use. Its header is checked against
    /// this base first, because llama.cpp signals a rejected adapter with a null handle that would crash on use.
    /// </summary>
    /// <exception cref="ModelLoadException">The adapter is not a LoRA for this base.</exception>
    public LoraAdapter GetAdapter(string adapterPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(adapterPath);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var full = System.IO.Path.GetFullPath(adapterPath);
        lock (_adapterGate)
        {
            if (_adapters.TryGetValue(full, out var cached))
            {
                return cached;
            }

            Registry.WeightFiles.ReadAdapter(full, Header, Path);
            var mark = LlamaNative.Mark();
            var adapter = Weights.NativeHandle.LoadLoraFromFile(full);
            if (NativePointer(adapter) == IntPtr.Zero)
            {
                throw new ModelLoadException($"llama.cpp rejected the LoRA adapter '{full}' for base '{Path}': {LlamaNative.ProblemsSince(mark)}.");
            }

            _adapters.Add(full, adapter);
            _adapterLoads++;
            return adapter;
        }
    }

    /// <summary>Frees the weights and every adapter.</summary>
    /// <exception cref="InvalidOperationException">Engines created from this model are still running on its weights.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        if (LiveEngines > 0)
        {
            throw new InvalidOperationException($"{LiveEngines} engine(s) still run on '{Path}'; dispose them before the model, whose weights they use.");
        }

        _disposed = true;
        lock (_adapterGate)
        {
            foreach (var adapter in _adapters.Values)
            {
                adapter.Unload();
            }

            _adapters.Clear();
        }

        Weights.Dispose();
    }

    /// <summary>
    /// LLamaSharp keeps the native adapter pointer internal and does not check it for null; reading it is the only
    /// way to turn a rejected adapter into an exception instead of a crash in the first decode.
    /// </summary>
    private static IntPtr NativePointer(LoraAdapter adapter) =>
        typeof(LoraAdapter).GetProperty("Pointer", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(adapter) is IntPtr p
            ? p
            : new IntPtr(1);
}
