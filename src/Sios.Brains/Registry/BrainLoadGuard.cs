using Sios.Brains.Integrity;

namespace Sios.Brains.Registry;

/// <summary>
/// The one door to loading a brain: re-hashes its weights against their pins, and seals the outcome. A mismatch
/// seals <c>brain.refused</c> and throws, so the weights are never handed to an engine; a match loads, then seals
/// <c>brain.loaded</c> before the loaded brain is returned, so no answer can precede the record of what answers.
/// An upstream brain has no local weights to re-hash: it is loaded at once, and its <c>brain.loaded</c> names the
/// upstream URL and model instead of digests.
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
    public Task<T> LoadAsync<T>(
        BrainManifest brain,
        Func<BrainManifest, CancellationToken, Task<T>> load,
        IProgress<HashProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        ArgumentNullException.ThrowIfNull(load);
        return LoadCoreAsync(brain, load, () => VerifyOrRefuseAsync(brain, progress, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Like <see cref="LoadAsync"/> for a specialist whose base model is already in memory: re-hashes only the
    /// adapter, because the resident base's bytes were verified when they were loaded (re-reading the file would
    /// check the disk, not the weights that answer). Seals <c>brain.loaded</c> or <c>brain.refused</c> the same way.
    /// </summary>
    public Task<T> LoadOnResidentModelAsync<T>(
        BrainManifest brain,
        Func<BrainManifest, CancellationToken, Task<T>> load,
        IProgress<HashProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        ArgumentNullException.ThrowIfNull(load);
        return LoadCoreAsync(brain, load, () => RefuseOnMismatchAsync(brain, () => VerifyAdapterAsync(brain, progress, cancellationToken), cancellationToken), cancellationToken);
    }

    private async Task<T> LoadCoreAsync<T>(
        BrainManifest brain, Func<BrainManifest, CancellationToken, Task<T>> load, Func<Task> verify, CancellationToken cancellationToken)
    {
        await verify().ConfigureAwait(false);
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
    public Task VerifyOrRefuseAsync(BrainManifest brain, IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        return RefuseOnMismatchAsync(brain, () => BrainRegistry.VerifyWeightsAsync(brain, progress, cancellationToken), cancellationToken);
    }

    private static async Task VerifyAdapterAsync(BrainManifest brain, IProgress<HashProgress>? progress, CancellationToken cancellationToken)
    {
        brain.Validate(requirePins: true);
        if (brain.AdapterPath is { } adapter)
        {
            var length = File.Exists(adapter) ? new FileInfo(adapter).Length : 0;
            var relay = progress is null ? null : new Progress<long>(hashed => progress.Report(new HashProgress(adapter, hashed, length)));
            await WeightDigest.VerifyAsync(adapter, brain.AdapterSha256!, "adapter", relay, cancellationToken).ConfigureAwait(false);
        }

        if (brain.ChatTemplatePath is { } template)
        {
            _ = ChatTemplateFile.Read(template, brain.ChatTemplateSha256!);
        }
    }

    private async Task RefuseOnMismatchAsync(BrainManifest brain, Func<Task> verify, CancellationToken cancellationToken)
    {
        try
        {
            await verify().ConfigureAwait(false);
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
