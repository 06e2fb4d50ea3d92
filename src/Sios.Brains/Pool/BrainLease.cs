using Sios.Brains.Engines;
using Sios.Brains.Registry;

namespace Sios.Brains.Pool;

/// <summary>
/// A loaded brain lent to one request: while any lease on it is live the pool will not unload it. Dispose it when
/// the request ends (disposing twice is harmless).
/// </summary>
public sealed class BrainLease : IAsyncDisposable, IDisposable
{
    private readonly Action _release;
    private int _released;

    internal BrainLease(BrainManifest brain, IBrainEngine engine, Action release)
    {
        Brain = brain;
        Engine = engine;
        _release = release;
    }

    /// <summary>The brain, as registered when it was loaded.</summary>
    public BrainManifest Brain { get; }

    /// <summary>The loaded engine; do not use it after the lease is disposed.</summary>
    public IBrainEngine Engine { get; }

    /// <summary>Returns the brain to the pool.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release();
        }
    }

    /// <summary>Returns the brain to the pool.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>What a <see cref="BrainPool"/> holds, and what it has done, at one moment.</summary>
/// <param name="Loaded">Names of the brains loaded (or loading), least recently used first.</param>
/// <param name="ResidentModels">Full paths of the model files in memory, each once however many brains share it.</param>
/// <param name="UsedBytes">The estimate of the resident weights, in bytes.</param>
/// <param name="PeakBytes">The highest <paramref name="UsedBytes"/> so far.</param>
/// <param name="PeakLoaded">The most brains loaded (or loading) at once so far.</param>
/// <param name="Loads">Brains loaded so far (each sealed a <c>brain.loaded</c>).</param>
/// <param name="ModelLoads">Model files loaded so far: one per residency, shared by the brains on that model.</param>
/// <param name="Evictions">Brains unloaded so far, to make room or after their keep-alive.</param>
public sealed record BrainPoolSnapshot(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> ResidentModels,
    long UsedBytes,
    long PeakBytes,
    int PeakLoaded,
    int Loads,
    int ModelLoads,
    int Evictions);

/// <summary>
/// A brain could not be loaded: its weights were refused (<see cref="Integrity.WeightMismatchException"/> inside),
/// llama.cpp rejected them (<see cref="ModelLoadException"/>), it cannot fit the pool's budget, or its upstream's
/// host is not in the egress allow-list (<see cref="Upstream.EgressRefusedException"/> inside). Only the requests
/// for this brain fail; the pool and its other brains go on serving.
/// </summary>
public sealed class BrainLoadException : Exception
{
    /// <summary>Creates the exception for brain <paramref name="brain"/> with the reason a person can act on.</summary>
    public BrainLoadException(string brain, string reason, Exception? inner = null)
        : base($"brain '{brain}' could not be loaded: {reason}", inner)
    {
        Brain = brain;
    }

    /// <summary>Creates the exception with a message only (prefer the other constructor).</summary>
    public BrainLoadException(string message) : base(message) => Brain = "";

    /// <summary>Creates the exception with a message and cause (prefer the other constructor).</summary>
    public BrainLoadException(string message, Exception inner) : base(message, inner) => Brain = "";

    /// <summary>Creates the exception with no message (prefer the other constructor).</summary>
    public BrainLoadException() => Brain = "";

    /// <summary>The brain that could not be loaded.</summary>
    public string Brain { get; }

    /// <summary>True when the brain's weights did not match their pinned digests (the refusal was sealed).</summary>
    public bool Refused => InnerException is Integrity.WeightMismatchException;

    /// <summary>True when the brain's upstream host is not in the egress allow-list (nothing was sent to it).</summary>
    public bool EgressRefused => InnerException is Upstream.EgressRefusedException;

    /// <summary>True when the load was cut short because the pool (or the engine under it) is shutting down.</summary>
    public bool Stopping => InnerException is OperationCanceledException or ObjectDisposedException;

    /// <summary>
    /// True when trying again cannot help until the operator acts: refused or unusable weights, a refused upstream, a
    /// brain too large for the pool's budget, an unset key variable. False when the cause may pass by itself: the
    /// server stopping, a seal that could not be made just now, an upstream name that did not resolve.
    /// </summary>
    public bool Permanent => !Stopping && InnerException is not (System.Net.Sockets.SocketException
        or Ledger.Pipeline.LogBackpressureException or Ledger.Pipeline.LogFailedException or Ledger.Pipeline.LogIntegrityException);
}
