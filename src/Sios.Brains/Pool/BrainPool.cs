using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Brains.Upstream;

namespace Sios.Brains.Pool;

/// <summary>
/// Hands out loaded brains by name, loading them on demand through the <see cref="BrainLoadGuard"/> (so every load
/// re-hashes the weights and is sealed) and unloading the least recently used, or those idle past the keep-alive,
/// to stay within a memory budget and a count of loaded brains. A brain under a live lease is never unloaded: a
/// request that needs room while every loaded brain is leased waits for one to be returned.
/// </summary>
/// <remarks>
/// A model file shared by several brains (a base under LoRA specialists) is hashed and loaded once per residency,
/// keyed by path and pinned digest, and counted once against the budget; it is freed when its last brain is
/// unloaded. Concurrent requests for a brain that is not loaded share one load. An upstream brain (answered by an
/// endpoint the operator hosts) takes no memory budget, since its weights live elsewhere, but counts toward
/// <see cref="BrainPoolOptions.MaxLoaded"/>, is leased and evicted like any brain, and is loaded only if
/// <see cref="BrainPoolOptions.Egress"/> permits its host.
/// </remarks>
public sealed class BrainPool : IAsyncDisposable
{
    private readonly BrainRegistry _registry;
    private readonly BrainLoadGuard _guard;
    private readonly BrainPoolOptions _options;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Slot> _byName = new(StringComparer.Ordinal);
    private readonly HashSet<Slot> _slots = [];
    private readonly Dictionary<string, ModelEntry> _models = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _disposals = [];
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ITimer? _sweeper;
    private TaskCompletionSource _changed = NewSignal();
    private long _used;
    private long _peakBytes;
    private int _peakLoaded;
    private int _loads;
    private int _modelLoads;
    private int _evictions;
    private bool _disposed;

    /// <summary>Creates a pool serving the brains of <paramref name="registry"/>, loading them through <paramref name="guard"/>.</summary>
    public BrainPool(BrainRegistry registry, BrainLoadGuard guard, BrainPoolOptions options, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(guard);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _registry = registry;
        _guard = guard;
        _options = options;
        _clock = clock ?? TimeProvider.System;
        if (options.KeepAlive != Timeout.InfiniteTimeSpan)
        {
            // Sweeping at half the keep-alive bounds how long past it an idle brain lingers.
            var period = TimeSpan.FromTicks(Math.Clamp(options.KeepAlive.Ticks / 2, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
            _sweeper = _clock.CreateTimer(_ => _ = SweepAsync(), null, period, period);
        }
    }

    /// <summary>The settings this pool runs with.</summary>
    public BrainPoolOptions Options => _options;

    /// <summary>
    /// A lease on the loaded brain <paramref name="name"/>, loading it first if needed (making room by unloading
    /// idle brains, least recently used first, or waiting for a lease to be returned when every brain is busy).
    /// A brain whose registration changed since it was loaded is reloaded as registered now.
    /// </summary>
    /// <exception cref="BrainRegistryException">No brain of that name is registered.</exception>
    /// <exception cref="Verify.FormatViolationException">The registry file is damaged.</exception>
    /// <exception cref="BrainLoadException">
    /// The brain could not be loaded (refused weights, llama.cpp error, too large for the budget; for an upstream
    /// brain, a host the egress allow-list refuses or an unset key variable).
    /// </exception>
    public Task<BrainLease> AcquireAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return AcquireAsync(_registry.Get(name), cancellationToken);
    }

    /// <summary>
    /// Like <see cref="AcquireAsync(string, CancellationToken)"/> for a registration the caller has just read from this
    /// pool's registry (the gateway reads it once per request to check the key's scope; reading it again here would
    /// parse brains.json twice per answer).
    /// </summary>
    public async Task<BrainLease> AcquireAsync(BrainManifest brain, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var name = brain.Name;
        while (true)
        {
            Slot? slot;
            Task changed;
            var retired = new List<Task>();
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                changed = _changed.Task;
                if (_byName.TryGetValue(name, out var current) && !current.Brain.Equals(brain))
                {
                    Retire(current, retired);
                    current = null;
                }

                slot = current ?? TryAdmit(brain, retired);
                if (slot is not null)
                {
                    slot.Leases++;
                    slot.LastUsed = _clock.GetTimestamp();
                }
            }

            await Task.WhenAll(retired).ConfigureAwait(false);
            if (slot is null)
            {
                // Brains unloaded on this pass may have freed a shared model only once its pin was dropped: try
                // again at once. Waiting is only for when nothing could be unloaded at all.
                if (retired.Count == 0)
                {
                    await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            IBrainEngine engine;
            try
            {
                engine = await slot.Loading!.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Release(slot);
                throw;
            }

            return new BrainLease(slot.Brain, engine, () => Release(slot));
        }
    }

    /// <summary>Unloads every idle brain unused for at least the keep-alive; returns how many. The pool also does this on a timer.</summary>
    public async Task<int> EvictIdleAsync()
    {
        var disposals = new List<Task>();
        int count;
        lock (_gate)
        {
            if (_disposed || _options.KeepAlive == Timeout.InfiniteTimeSpan)
            {
                return 0;
            }

            var idle = _slots.Where(s => s.Leases == 0 && s.Engine is not null && _clock.GetElapsedTime(s.LastUsed) >= _options.KeepAlive).ToList();
            foreach (var slot in idle)
            {
                Evict(slot, disposals);
            }

            count = idle.Count;
            if (count > 0)
            {
                Signal();
            }
        }

        await Task.WhenAll(disposals).ConfigureAwait(false);
        return count;
    }

    /// <summary>What the pool holds and has done, at this moment.</summary>
    public BrainPoolSnapshot Snapshot()
    {
        lock (_gate)
        {
            return new BrainPoolSnapshot(
                [.. _slots.OrderBy(s => s.LastUsed).Select(s => s.Brain.Name)],
                [.. _models.Values.Select(m => m.Path).Order(StringComparer.Ordinal)],
                _used, _peakBytes, _peakLoaded, _loads, _modelLoads, _evictions);
        }
    }

    /// <summary>Unloads every brain and frees every model; leases still out stop working. Waits for loads under way.</summary>
    public async ValueTask DisposeAsync()
    {
        List<Task> loading;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            loading = [.. _slots.Select(s => s.Loading!)];
            _changed.TrySetException(new ObjectDisposedException(nameof(BrainPool)));
        }

        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loading).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        Task[] pending;
        lock (_gate)
        {
            var disposals = new List<Task>();
            foreach (var slot in _slots.Where(s => s.Engine is not null).ToList())
            {
                Evict(slot, disposals);
            }

            pending = [.. _disposals];
        }

        try
        {
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
        finally
        {
            _lifetime.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static string ModelKey(BrainManifest brain) => brain.ModelPath + "\n" + brain.ModelSha256;

    /// <summary>The settings of an upstream brain's engine, with its token read from the environment now.</summary>
    private static UpstreamOptions UpstreamOptions(UpstreamBrain upstream)
    {
        string? key = null;
        if (upstream.ApiKeyEnv is { } variable)
        {
            key = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(key))
            {
                // Refusing beats sending no token: the upstream would reject every request, after brain.loaded was sealed.
                throw new InvalidOperationException($"the environment variable {variable}, which should hold the upstream's token, is not set");
            }
        }

        return new UpstreamOptions { BaseAddress = upstream.Url, Model = upstream.Model, ApiKey = key, ModelDigest = "" };
    }

    private static long FileLength(string? path)
    {
        if (path is null)
        {
            return 0;
        }

        // A missing file costs nothing here: loading it fails, and is refused, right after.
        var info = new FileInfo(path);
        return info.Exists ? info.Length : 0;
    }

    /// <summary>Reserves room for <paramref name="brain"/> and starts its load, or returns null when it must wait. Under the lock.</summary>
    private Slot? TryAdmit(BrainManifest brain, List<Task> disposals)
    {
        if (brain.Upstream is not null)
        {
            return MakeRoom(null, 0, disposals) ? Admit(brain, null, 0, loadsModel: false) : null;
        }

        _models.TryGetValue(ModelKey(brain), out var model);
        var modelBytes = model is null ? FileLength(brain.ModelPath) : 0;
        // llama.cpp keeps an adapter with its base until the base goes (so switching specialists never reloads
        // it): its bytes are charged to the model once, not to the brain.
        var adapterBytes = brain.AdapterPath is { } adapter && !(model?.Adapters.Contains(adapter) ?? false) ? FileLength(adapter) : 0;
        var cost = _options.PerBrainBytes;
        var needed = modelBytes + adapterBytes + cost;
        if (needed > _options.MemoryBudgetBytes)
        {
            throw new BrainLoadException(brain.Name,
                $"it needs an estimated {needed:N0} bytes, more than the pool's whole budget of {_options.MemoryBudgetBytes:N0} bytes");
        }

        // Pinning the shared model first keeps the evictions below from freeing the very weights this brain needs.
        if (model is not null)
        {
            model.Refs++;
        }

        if (!MakeRoom(model, needed, disposals))
        {
            return null;
        }

        var loadsModel = model is null;
        if (model is null)
        {
            model = new ModelEntry(ModelKey(brain), brain.ModelPath!) { Refs = 1 };
            _models.Add(model.Key, model);
        }

        if (brain.AdapterPath is not null)
        {
            model.Adapters.Add(brain.AdapterPath);
        }

        model.Bytes += modelBytes + adapterBytes;
        _used += modelBytes + adapterBytes;
        return Admit(brain, model, cost, loadsModel);
    }

    /// <summary>
    /// Evicts idle brains, least recently used first, until one more brain needing <paramref name="needed"/> bytes
    /// fits; false (with the pin on <paramref name="model"/> dropped) when it cannot. Under the lock.
    /// </summary>
    private bool MakeRoom(ModelEntry? model, long needed, List<Task> disposals)
    {
        while (_slots.Count + 1 > _options.MaxLoaded || _used + needed > _options.MemoryBudgetBytes)
        {
            var victim = _slots.Where(s => s.Leases == 0 && s.Engine is not null).MinBy(s => s.LastUsed);
            if (victim is null)
            {
                if (model is not null)
                {
                    Unref(model, disposals);
                }

                return false;
            }

            Evict(victim, disposals);
        }

        return true;
    }

    /// <summary>Adds the slot of <paramref name="brain"/>, charging <paramref name="cost"/>, and starts its load. Under the lock.</summary>
    private Slot Admit(BrainManifest brain, ModelEntry? model, long cost, bool loadsModel)
    {
        var slot = new Slot(brain, model, cost);
        _slots.Add(slot);
        _byName[brain.Name] = slot;
        _used += cost;
        _peakBytes = Math.Max(_peakBytes, _used);
        _peakLoaded = Math.Max(_peakLoaded, _slots.Count);
        slot.Loading = Task.Run(() => LoadAsync(slot, loadsModel));
        return slot;
    }

    private async Task<IBrainEngine> LoadAsync(Slot slot, bool loadsModel)
    {
        var ct = _lifetime.Token;
        try
        {
            IBrainEngine engine;
            if (slot.Brain.Upstream is { } upstream)
            {
                engine = await LoadUpstreamAsync(slot.Brain, upstream, ct).ConfigureAwait(false);
            }
            else if (loadsModel)
            {
                try
                {
                    engine = await _guard.LoadAsync(slot.Brain, async (brain, token) =>
                    {
                        var model = await LlamaModel.LoadAsync(brain.ModelPath!, _options.Engine.GpuLayers, token).ConfigureAwait(false);
                        Interlocked.Increment(ref _modelLoads);
                        slot.Model!.Loaded.TrySetResult(model);
                        return (IBrainEngine)model.CreateEngine(EngineOptions(brain));
                    }, cancellationToken: ct).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    slot.Model!.Loaded.TrySetException(e);
                    throw;
                }
            }
            else
            {
                var model = await slot.Model!.Loaded.Task.WaitAsync(ct).ConfigureAwait(false);
                engine = await _guard.LoadOnResidentModelAsync(slot.Brain,
                    (brain, _) => Task.FromResult<IBrainEngine>(model.CreateEngine(EngineOptions(brain))), cancellationToken: ct).ConfigureAwait(false);
            }

            var retired = new List<Task>();
            lock (_gate)
            {
                slot.Engine = engine;
                slot.LastUsed = _clock.GetTimestamp();
                _loads++;
                // Re-registered while loading, and every request for it gave up: nobody can reach it by name any more.
                if (slot.Retired && slot.Leases == 0)
                {
                    Evict(slot, retired);
                }

                Signal();
            }

            return engine;
        }
        catch (Exception e)
        {
            var disposals = new List<Task>();
            lock (_gate)
            {
                Remove(slot, disposals);
                Signal();
            }

            await Task.WhenAll(disposals).ConfigureAwait(false);
            throw new BrainLoadException(slot.Brain.Name, e.Message, e);
        }
    }

    /// <summary>
    /// Vets the upstream's host against the allow-list before anything is sealed, so a brain that could never be
    /// reached is refused at once, not at its first request; the engine's connections are vetted again when opened.
    /// </summary>
    private async Task<IBrainEngine> LoadUpstreamAsync(BrainManifest brain, UpstreamBrain upstream, CancellationToken ct)
    {
        var options = UpstreamOptions(upstream);
        await _options.Egress.PermittedAddressesAsync(upstream.Url.IdnHost, upstream.Url.Port, ct).ConfigureAwait(false);
        return await _guard.LoadAsync(brain, (_, _) => Task.FromResult<IBrainEngine>(new UpstreamEngine(options, _options.Egress)), cancellationToken: ct)
            .ConfigureAwait(false);
    }

    private LlamaEngineOptions EngineOptions(BrainManifest brain) => _options.Engine with
    {
        ContextSize = brain.ContextSize ?? _options.Engine.ContextSize,
        Threads = brain.Threads ?? _options.Engine.Threads,
        LoraAdapterPath = brain.AdapterPath,
        LoraScale = brain.AdapterScale ?? 1f,
        ModelDigest = brain.ModelSha256!,

        // Read as the bytes matching the pin, so a template swapped after the check cannot reach the model.
        ChatTemplate = brain.ChatTemplatePath is { } template ? ChatTemplateFile.Read(template, brain.ChatTemplateSha256!) : null,
    };

    private void Release(Slot slot)
    {
        var disposals = new List<Task>();
        lock (_gate)
        {
            slot.Leases--;
            slot.LastUsed = _clock.GetTimestamp();
            if (slot.Retired && slot.Leases == 0 && slot.Engine is not null && _slots.Contains(slot))
            {
                Evict(slot, disposals);
            }

            Signal();
        }
    }

    /// <summary>Takes a brain whose registration changed out of service: now if idle, else when its last lease returns. Under the lock.</summary>
    private void Retire(Slot slot, List<Task> disposals)
    {
        slot.Retired = true;
        _byName.Remove(slot.Brain.Name);
        if (slot.Leases == 0 && slot.Engine is not null)
        {
            Evict(slot, disposals);
        }
    }

    /// <summary>Unloads an idle, loaded brain. Under the lock; the engine (and maybe its model) are freed on the returned tasks.</summary>
    private void Evict(Slot slot, List<Task> disposals)
    {
        _evictions++;
        Remove(slot, disposals);
    }

    private void Remove(Slot slot, List<Task> disposals)
    {
        if (!_slots.Remove(slot))
        {
            return;
        }

        if (_byName.TryGetValue(slot.Brain.Name, out var named) && named == slot)
        {
            _byName.Remove(slot.Brain.Name);
        }

        _used -= slot.Cost;
        if (slot.Engine is { } engine)
        {
            var disposal = Task.Run(async () => await engine.DisposeAsync().ConfigureAwait(false));
            slot.Model?.EngineDisposals.Add(disposal);
            Track(disposal, disposals);
        }

        if (slot.Model is { } model)
        {
            Unref(model, disposals);
        }
    }

    private void Unref(ModelEntry model, List<Task> disposals)
    {
        if (--model.Refs > 0)
        {
            return;
        }

        _models.Remove(model.Key);
        _used -= model.Bytes;
        var engines = model.EngineDisposals.ToArray();
        // The model's weights go only after every engine on them is gone: llama.cpp contexts point into them.
        Track(Task.Run(async () =>
        {
            await Task.WhenAll(engines).ConfigureAwait(false);
            if (model.Loaded.Task.IsCompletedSuccessfully)
            {
                model.Loaded.Task.Result.Dispose();
            }
        }), disposals);
    }

    private void Track(Task disposal, List<Task> disposals)
    {
        _disposals.Add(disposal);
        disposals.Add(disposal);
        _ = disposal.ContinueWith(d =>
        {
            lock (_gate)
            {
                _disposals.Remove(d);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Signal()
    {
        var changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    private async Task SweepAsync()
    {
        try
        {
            await EvictIdleAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The pool closed while sweeping; its own disposal unloads what is left.
        }
    }

    /// <summary>A model file in memory, shared by every brain on it.</summary>
    private sealed class ModelEntry(string key, string path)
    {
        public string Key { get; } = key;

        public string Path { get; } = path;

        /// <summary>The model file and every adapter file loaded onto it.</summary>
        public long Bytes { get; set; }

        public HashSet<string> Adapters { get; } = new(StringComparer.Ordinal);

        public int Refs { get; set; }

        public TaskCompletionSource<LlamaModel> Loaded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<Task> EngineDisposals { get; } = [];
    }

    /// <summary>One brain, loading or loaded.</summary>
    private sealed class Slot(BrainManifest brain, ModelEntry? model, long cost)
    {
        public BrainManifest Brain { get; } = brain;

        /// <summary>The local model the brain runs on; null for an upstream brain.</summary>
        public ModelEntry? Model { get; } = model;

        public long Cost { get; } = cost;

        public Task<IBrainEngine>? Loading { get; set; }

        public IBrainEngine? Engine { get; set; }

        public int Leases { get; set; }

        public long LastUsed { get; set; }

        public bool Retired { get; set; }
    }
}
