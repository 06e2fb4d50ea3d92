using Sios.Brains.Integrity;

namespace Sios.Brains.Registry;

/// <summary>
/// The one door to loading a brain: re-hashes its weights against their pins, and seals the outcome. A mismatch
/// seals <c>brain.refused</c> and throws, so the weights are never handed to an engine; a match loads, then seals
/// <c>brain.loaded</c> before the loaded brain is returned, so no answer can precede the record of what answers.
/// </summary>
public sealed class BrainLoadGuard
{
    private readonly EntrySealer _sealer;
    private readonly TimeProvider _clock;

    /// <summary>Creates a guard sealing through <paramref name="sealer"/>.</summary>
    public BrainLoadGuard(EntrySealer sealer, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(sealer);
        _sealer = sealer;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>
    /// Verifies <paramref name="brain"/>'s model and adapter, runs <paramref name="load"/>, seals <c>brain.loaded</c>
    /// and returns what <paramref name="load"/> made. On a mismatch seals <c>brain.refused</c> and throws
    /// <see cref="WeightMismatchException"/> (whose message also says if the refusal could not be sealed). If
    /// <c>brain.loaded</c> cannot be sealed, the loaded object is disposed and the sealing error thrown.
    /// </summary>
    /// <remarks>
    /// The files are hashed by path and then loaded by path: a writer that swaps a file in between is not caught
    /// here. Weight files belong in a folder only the operator can write.
    /// </remarks>
    public async Task<T> LoadAsync<T>(
        BrainManifest brain,
        Func<BrainManifest, CancellationToken, Task<T>> load,
        IProgress<HashProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        ArgumentNullException.ThrowIfNull(load);
        await VerifyOrRefuseAsync(brain, progress, cancellationToken).ConfigureAwait(false);
        var loaded = await load(brain, cancellationToken).ConfigureAwait(false);
        try
        {
            await _sealer(BrainEntries.Loaded(brain, BrainEntries.System, _clock), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            switch (loaded)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }

            throw;
        }

        return loaded;
    }

    /// <summary>
    /// Re-hashes <paramref name="brain"/>'s weights; on a mismatch seals <c>brain.refused</c> and throws
    /// <see cref="WeightMismatchException"/>. Seals nothing when they match.
    /// </summary>
    public async Task VerifyOrRefuseAsync(BrainManifest brain, IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        try
        {
            await BrainRegistry.VerifyWeightsAsync(brain, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (WeightMismatchException mismatch)
        {
            try
            {
                await _sealer(BrainEntries.Refused(brain.Name, mismatch, BrainEntries.System, _clock), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception sealing)
            {
                throw mismatch.WithSealFailure(sealing);
            }

            throw;
        }
    }
}
