using System.Globalization;
using System.Text.RegularExpressions;
using Sios.Brains.Integrity;

namespace Sios.Brains.Registry;

/// <summary>
/// One brain: either local weights (a GGUF model pinned by digest, with an optional LoRA adapter) or an
/// <see cref="Upstream"/> endpoint the operator hosts, never both; and the defaults it answers with. Null optional
/// values mean "the engine's default". A local brain held by the registry always has its digests; one handed to
/// <see cref="BrainRegistry.AddAsync"/> may leave them null to pin what the files hold now.
/// </summary>
public sealed partial record BrainManifest
{
    /// <summary>Longest description accepted (it is sealed in the log, whose entries are at most 64 KiB).</summary>
    public const int MaxDescriptionLength = 1_000;

    /// <summary>Longest system prompt accepted (the log holds only its digest).</summary>
    public const int MaxSystemPromptLength = 100_000;

    /// <summary>The brain's name: 1 to 64 of <c>a-z 0-9 . _ -</c>, starting with a letter or digit.</summary>
    public required string Name { get; init; }

    /// <summary>What the brain is for, for people choosing one.</summary>
    public string Description { get; init; } = "";

    /// <summary>Full path of the GGUF model file of a local brain; null for an upstream brain.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The model file's pinned digest, <c>sha256:&lt;hex&gt;</c>.</summary>
    public string? ModelSha256 { get; init; }

    /// <summary>Full path of the LoRA adapter file, or null for the bare model.</summary>
    public string? AdapterPath { get; init; }

    /// <summary>The adapter file's pinned digest, <c>sha256:&lt;hex&gt;</c>; null without an adapter.</summary>
    public string? AdapterSha256 { get; init; }

    /// <summary>How strongly the adapter is applied (1 = as trained); only with an adapter.</summary>
    public float? AdapterScale { get; init; }

    /// <summary>Full path of a chat template file (Jinja) used instead of the GGUF's own, or null to use the GGUF's.</summary>
    public string? ChatTemplatePath { get; init; }

    /// <summary>The chat template file's pinned digest, <c>sha256:&lt;hex&gt;</c>; null without a template file.</summary>
    public string? ChatTemplateSha256 { get; init; }

    /// <summary>The operator-hosted endpoint that answers for this brain instead of local weights, or null for a local brain.</summary>
    public UpstreamBrain? Upstream { get; init; }

    /// <summary>The system prompt put before every conversation, or null for none.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>Default sampling, used where a request does not say otherwise.</summary>
    public SamplingDefaults Sampling { get; init; } = new();

    /// <summary>Context window in tokens.</summary>
    public int? ContextSize { get; init; }

    /// <summary>CPU threads used for generation.</summary>
    public int? Threads { get; init; }

    /// <summary>True when <paramref name="name"/> is a valid brain name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>
    /// Every problem with this manifest, as sentences a person can act on; empty when it is valid.
    /// <paramref name="requirePins"/> demands both digests (as for a manifest in the registry).
    /// </summary>
    public IReadOnlyList<string> Problems(bool requirePins)
    {
        var problems = new List<string>();
        if (!IsValidName(Name))
        {
            problems.Add("a name is 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
        }

        if (Description is null || Description.Length > MaxDescriptionLength || Description.Any(char.IsControl))
        {
            problems.Add($"the description is one line of at most {MaxDescriptionLength} characters, without control characters");
        }

        if (Upstream is null)
        {
            LocalProblems(problems, requirePins);
        }
        else
        {
            UpstreamProblems(problems, Upstream);
        }

        if (AdapterScale is { } scale && !(float.IsFinite(scale) && scale is >= -10f and <= 10f))
        {
            problems.Add($"the adapter scale must be a number from -10 to 10 (got {scale.ToString(CultureInfo.InvariantCulture)})");
        }

        if (SystemPrompt is { Length: > MaxSystemPromptLength })
        {
            problems.Add($"the system prompt is at most {MaxSystemPromptLength:N0} characters (got {SystemPrompt.Length:N0})");
        }

        if (Sampling is null)
        {
            problems.Add("sampling defaults are required (use an empty set for the engine's)");
        }
        else
        {
            problems.AddRange(Sampling.Problems());
        }

        if (ContextSize is { } context && context is < 64 or > 1 << 20)
        {
            problems.Add($"the context size must be from 64 to {1 << 20} tokens (got {context})");
        }

        if (ContextSize is { } window && Sampling?.MaxTokens is { } max && max > window)
        {
            problems.Add($"max tokens ({max}) cannot exceed the context size ({window})");
        }

        if (Threads is { } threads && threads is < 1 or > 1024)
        {
            problems.Add($"threads must be from 1 to 1024 (got {threads})");
        }

        return problems;
    }

    /// <summary>Throws <see cref="BrainManifestException"/> listing every problem, if there are any.</summary>
    public void Validate(bool requirePins)
    {
        var problems = Problems(requirePins);
        if (problems.Count > 0)
        {
            throw new BrainManifestException(Name, problems);
        }
    }

    private void LocalProblems(List<string> problems, bool requirePins)
    {
        if (ModelPath is null)
        {
            problems.Add("a brain needs a model file or an upstream endpoint");
            return;
        }

        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            problems.Add("the model path is empty");
        }

        CheckDigest(problems, "model", ModelSha256, requirePins);
        if (AdapterPath is null)
        {
            if (AdapterSha256 is not null || AdapterScale is not null)
            {
                problems.Add("an adapter digest or scale needs an adapter file");
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(AdapterPath))
            {
                problems.Add("the adapter path is empty");
            }

            CheckDigest(problems, "adapter", AdapterSha256, requirePins);
        }

        if (ChatTemplatePath is null)
        {
            if (ChatTemplateSha256 is not null)
            {
                problems.Add("a chat template digest needs a chat template file");
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(ChatTemplatePath))
            {
                problems.Add("the chat template path is empty");
            }

            CheckDigest(problems, "chat template", ChatTemplateSha256, requirePins);
        }
    }

    private void UpstreamProblems(List<string> problems, UpstreamBrain upstream)
    {
        if (ModelPath is not null || ModelSha256 is not null)
        {
            problems.Add("a brain has either a model file or an upstream endpoint, not both");
        }

        // These settings steer local weights; kept on an upstream brain they would be sealed yet have no effect.
        if (AdapterPath is not null || AdapterSha256 is not null || AdapterScale is not null)
        {
            problems.Add("an adapter applies to a local model file, not to an upstream endpoint");
        }

        if (ChatTemplatePath is not null || ChatTemplateSha256 is not null)
        {
            problems.Add("a chat template applies to a local model file; an upstream renders prompts with its own");
        }

        if (ContextSize is not null || Threads is not null)
        {
            problems.Add("the context size and threads are set on the upstream's own server, not in the brain");
        }

        problems.AddRange(upstream.Problems());
    }

    private static void CheckDigest(List<string> problems, string file, string? digest, bool required)
    {
        if (digest is null)
        {
            if (required)
            {
                problems.Add($"the {file} file has no pinned digest");
            }
        }
        else if (!WeightDigest.IsWellFormed(digest))
        {
            problems.Add($"the {file} digest '{digest}' is not of the form {WeightDigest.Prefix}<64 lowercase hex>");
        }
    }

    // \z, not $: $ would also accept a name ending in a newline.
    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}

/// <summary>Default sampling settings of a brain; null means the engine's default.</summary>
public sealed record SamplingDefaults
{
    /// <summary>Most stop sequences accepted.</summary>
    public const int MaxStops = 16;

    /// <summary>Longest stop sequence accepted, in characters.</summary>
    public const int MaxStopLength = 200;

    /// <summary>Sampling temperature, 0 (greedy) to 2.</summary>
    public float? Temperature { get; init; }

    /// <summary>Nucleus sampling mass, above 0 and at most 1.</summary>
    public float? TopP { get; init; }

    /// <summary>Most tokens generated per answer.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Sequences that end an answer when generated.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Random seed, for reproducible sampling.</summary>
    public uint? Seed { get; init; }

    /// <summary>Every problem with these settings; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Temperature is { } t && !(float.IsFinite(t) && t is >= 0f and <= 2f))
        {
            problems.Add($"the temperature must be from 0 to 2 (got {t.ToString(CultureInfo.InvariantCulture)})");
        }

        if (TopP is { } p && !(float.IsFinite(p) && p is > 0f and <= 1f))
        {
            problems.Add($"top-p must be above 0 and at most 1 (got {p.ToString(CultureInfo.InvariantCulture)})");
        }

        if (MaxTokens is { } max && max is < 1 or > 1 << 20)
        {
            problems.Add($"max tokens must be from 1 to {1 << 20} (got {max})");
        }

        if (Stop is null)
        {
            problems.Add("the stop list is required (it may be empty)");
        }
        else
        {
            if (Stop.Count > MaxStops)
            {
                problems.Add($"at most {MaxStops} stop sequences (got {Stop.Count})");
            }

            if (Stop.Any(s => string.IsNullOrEmpty(s) || s.Length > MaxStopLength))
            {
                problems.Add($"each stop sequence is 1 to {MaxStopLength} characters");
            }
        }

        return problems;
    }

    /// <summary>Equal when every setting is equal, comparing the stop sequences in order.</summary>
    public bool Equals(SamplingDefaults? other) =>
        other is not null
        && Temperature == other.Temperature
        && TopP == other.TopP
        && MaxTokens == other.MaxTokens
        && Seed == other.Seed
        && (ReferenceEquals(Stop, other.Stop) || (Stop is not null && other.Stop is not null && Stop.SequenceEqual(other.Stop, StringComparer.Ordinal)));

    /// <summary>A hash consistent with <see cref="Equals(SamplingDefaults?)"/>.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Temperature);
        hash.Add(TopP);
        hash.Add(MaxTokens);
        hash.Add(Seed);
        foreach (var s in Stop ?? [])
        {
            hash.Add(s, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }
}

/// <summary>A brain manifest is not valid; the message lists every problem.</summary>
public sealed class BrainManifestException : Exception
{
    /// <summary>Creates the exception for brain <paramref name="name"/> with its problems.</summary>
    public BrainManifestException(string? name, IReadOnlyList<string> problems)
        : base($"brain '{name}' is not valid: {string.Join("; ", problems)}")
    {
        Problems = problems;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public BrainManifestException(string message) : base(message) => Problems = [message];

    /// <summary>Creates the exception with a message and cause.</summary>
    public BrainManifestException(string message, Exception inner) : base(message, inner) => Problems = [message];

    /// <summary>Creates the exception with no message.</summary>
    public BrainManifestException() => Problems = [];

    /// <summary>Each problem, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
