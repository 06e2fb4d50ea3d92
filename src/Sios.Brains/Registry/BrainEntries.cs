using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sios.Brains.Integrity;
using Sios.Ledger.Entries;

namespace Sios.Brains.Registry;

/// <summary>Seals one SPEC §2 entry in the Open Audit Record; completes once the entry is durable and signed.</summary>
/// <param name="entry">The entry's bytes, as built by <see cref="BrainEntries"/>.</param>
/// <param name="cancellationToken">Stops the wait (an entry already handed over may still be sealed).</param>
public delegate Task EntrySealer(byte[] entry, CancellationToken cancellationToken);

/// <summary>
/// The SPEC §2 brain entries. They name weights by digest only: file paths are machine-local detail, and the system
/// prompt, which an operator may consider their own work, appears as its SHA-256 so it can be proven yet stays private.
/// An upstream brain has no weights here to hash, so its entries carry <c>upstream</c> <c>{url, model}</c> instead of
/// <c>weights</c>; the name of the variable holding its token is machine-local and is not sealed.
/// </summary>
public static class BrainEntries
{
    /// <summary>The actor of changes an operator makes (CLI, admin).</summary>
    public const string Operator = "operator";

    /// <summary>The actor of what SIOS does on its own (loads, refusals at load).</summary>
    public const string System = "system";

    /// <summary><c>brain.registered</c>: the name, the digests (or the upstream) and the manifest's settings.</summary>
    public static byte[] Registered(BrainManifest brain, string actor = Operator, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(brain);
        brain.Validate(requirePins: true);
        return EntryWriter.Write("brain.registered", actor, json =>
        {
            WriteWeights(json, brain);
            json.WriteString("description", brain.Description);
            if (brain.ModelPath is not null)
            {
                json.WriteString("model_file", Path.GetFileName(brain.ModelPath));
            }

            if (brain.AdapterPath is not null)
            {
                json.WriteString("adapter_file", Path.GetFileName(brain.AdapterPath));
                json.WriteNumber("adapter_scale", brain.AdapterScale ?? 1f);
            }

            if (brain.SystemPrompt is not null)
            {
                json.WriteString("system_prompt_sha256", WeightDigest.Format(SHA256.HashData(Encoding.UTF8.GetBytes(brain.SystemPrompt))));
            }

            json.WriteStartObject("sampling");
            WriteOptional(json, "temperature", brain.Sampling.Temperature);
            WriteOptional(json, "top_p", brain.Sampling.TopP);
            WriteOptional(json, "max_tokens", brain.Sampling.MaxTokens);
            json.WriteStartArray("stop");
            foreach (var stop in brain.Sampling.Stop)
            {
                json.WriteStringValue(stop);
            }

            json.WriteEndArray();
            WriteOptional(json, "seed", brain.Sampling.Seed);
            json.WriteEndObject();
            WriteOptional(json, "context_size", brain.ContextSize);
            WriteOptional(json, "threads", brain.Threads);
        }, clock).Bytes;
    }

    /// <summary><c>brain.removed</c>: the name and the digests (or the upstream) it had.</summary>
    public static byte[] Removed(BrainManifest brain, string actor = Operator, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(brain);
        return EntryWriter.Write("brain.removed", actor, json => WriteWeights(json, brain), clock).Bytes;
    }

    /// <summary><c>brain.loaded</c>: the name and the digests of the weights just verified and loaded, or the upstream now in use.</summary>
    public static byte[] Loaded(BrainManifest brain, string actor = System, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(brain);
        return EntryWriter.Write("brain.loaded", actor, json => WriteWeights(json, brain), clock).Bytes;
    }

    /// <summary>
    /// <c>brain.refused</c>: the pinned (<c>expected</c>) and found (<c>actual</c>, absent when the file is gone)
    /// digests, and the mismatch's message, which names the file, as the <c>reason</c>.
    /// </summary>
    public static byte[] Refused(string brain, WeightMismatchException mismatch, string actor = System, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(brain);
        ArgumentNullException.ThrowIfNull(mismatch);
        return EntryWriter.Write("brain.refused", actor, json =>
        {
            json.WriteString("brain", brain);
            json.WriteString("expected", mismatch.Expected);
            if (mismatch.Actual is not null)
            {
                json.WriteString("actual", mismatch.Actual);
            }

            json.WriteString("reason", mismatch.Message);
        }, clock).Bytes;
    }

    /// <summary>
    /// Writes the member <c>"upstream": {"url": ..., "model": ...}</c>, naming the endpoint by its canonical absolute URL;
    /// every entry about an upstream brain names it this way, so readers can match them.
    /// </summary>
    public static void WriteUpstream(Utf8JsonWriter json, UpstreamBrain upstream)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(upstream);
        json.WriteStartObject("upstream");
        json.WriteString("url", upstream.Url.AbsoluteUri);
        json.WriteString("model", upstream.Model);
        json.WriteEndObject();
    }

    private static void WriteWeights(Utf8JsonWriter json, BrainManifest brain)
    {
        json.WriteString("brain", brain.Name);
        if (brain.Upstream is { } upstream)
        {
            WriteUpstream(json, upstream);
            return;
        }

        json.WriteString("weights", brain.ModelSha256);
        if (brain.AdapterSha256 is not null)
        {
            json.WriteString("adapter", brain.AdapterSha256);
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, float? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }
}
