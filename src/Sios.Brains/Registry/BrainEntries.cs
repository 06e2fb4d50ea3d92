using System.Security.Cryptography;
using System.Text;
using Sios.Brains.Integrity;
using Sios.Verify.Entries;

namespace Sios.Brains.Registry;

/// <summary>Seals one SPEC §2 entry in the Open Audit Record; completes once the entry is durable and signed.</summary>
/// <param name="entry">The entry's bytes, as built by <see cref="BrainEntries"/>.</param>
/// <param name="cancellationToken">Stops the wait (an entry already handed over may still be sealed).</param>
public delegate Task EntrySealer(byte[] entry, CancellationToken cancellationToken);

/// <summary>
/// The SPEC §2 brain entries, built from manifests onto the typed catalogue (<see cref="EntryTypes"/>). They name weights
/// by digest only: file paths are machine-local detail, and the system prompt, which an operator may consider their own
/// work, appears as its SHA-256 so it can be proven yet stays private. An upstream brain has no weights here to hash, so
/// its entries carry <c>upstream</c> <c>{url, model}</c> instead of <c>weights</c>; the name of the variable holding its
/// token is machine-local and is not sealed.
/// </summary>
public static class BrainEntries
{
    /// <summary>The actor of changes an operator makes (CLI, admin).</summary>
    public const string Operator = EntryActors.Operator;

    /// <summary>The actor of what SIOS does on its own (loads, refusals at load).</summary>
    public const string System = EntryActors.System;

    /// <summary><c>brain.registered</c>: the name, the digests (or the upstream) and the manifest's settings.</summary>
    public static byte[] Registered(BrainManifest brain, string actor = Operator, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(brain);
        brain.Validate(requirePins: true);
        var sampling = brain.Sampling;
        return new BrainRegisteredEntry(
            actor,
            Ref(brain),
            brain.Description,
            brain.ModelPath is null ? null : Path.GetFileName(brain.ModelPath),
            brain.AdapterPath is null ? null : Path.GetFileName(brain.AdapterPath),
            brain.AdapterPath is null ? null : brain.AdapterScale ?? 1f,
            brain.SystemPrompt is null ? null : WeightDigest.Format(SHA256.HashData(Encoding.UTF8.GetBytes(brain.SystemPrompt))),
            new SamplingSettings(sampling.Temperature, sampling.TopP, sampling.MaxTokens, sampling.Stop, sampling.Seed),
            brain.ContextSize,
            brain.Threads).Write(clock);
    }

    /// <summary><c>brain.removed</c>: the name and the digests (or the upstream) it had.</summary>
    public static byte[] Removed(BrainManifest brain, string actor = Operator, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(brain);
        return new BrainRemovedEntry(actor, Ref(brain)).Write(clock);
    }

    /// <summary><c>brain.loaded</c>: the name and the digests of the weights just verified and loaded, or the upstream now in use.</summary>
    public static byte[] Loaded(BrainManifest brain, string actor = System, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(brain);
        return new BrainLoadedEntry(actor, Ref(brain)).Write(clock);
    }

    /// <summary>
    /// <c>brain.refused</c>: the pinned (<c>expected</c>) and found (<c>actual</c>, absent when the file is gone)
    /// digests, and the mismatch's message, which names the file, as the <c>reason</c>.
    /// </summary>
    public static byte[] Refused(string brain, WeightMismatchException mismatch, string actor = System, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(brain);
        ArgumentNullException.ThrowIfNull(mismatch);
        return new BrainRefusedEntry(actor, brain, mismatch.Expected, mismatch.Actual, mismatch.Message).Write(clock);
    }

    /// <summary>
    /// How every entry names <paramref name="brain"/>: its pinned digests, or its upstream by the endpoint's canonical
    /// absolute URL, so readers can match entries about one brain.
    /// </summary>
    public static BrainRef Ref(BrainManifest brain)
    {
        ArgumentNullException.ThrowIfNull(brain);
        var upstream = brain.Upstream is { } u ? new UpstreamRef(u.Url.AbsoluteUri, u.Model) : null;
        return new BrainRef(brain.Name, brain.ModelSha256, brain.AdapterSha256, upstream, brain.ChatTemplateSha256);
    }
}
