using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sios.Brains.Integrity;
using Sios.Ledger.Storage;
using Sios.Verify;

using Sios.Ledger.State;

namespace Sios.Brains.Registry;

/// <summary>
/// The brains of one data folder, kept in <c>brains.json</c>. Every change is sealed in the Open Audit Record, in the
/// order that keeps the record truthful across a crash: the log may claim a brain the folder does not (yet) hold,
/// but the folder never holds a brain the log does not claim. So a registration is sealed before the file commits
/// it, and a removal is committed before it is sealed. A crash in between leaves, at worst, a
/// <c>brain.registered</c> for a brain that never became loadable (running add again seals a second one), or a
/// brain gone from the folder whose <c>brain.removed</c> is missing; never a loadable brain the log does not show.
/// </summary>
public sealed class BrainRegistry
{
    /// <summary>The registry's file name in the data folder.</summary>
    public const string FileName = "brains.json";

    private const string LockFileName = "brains.lock";

    private readonly IStateDocument _document;
    private readonly EntrySealer? _sealer;

    // The last content that passed the MAC and the log: the gateway reads the registry on every request, and the check
    // replays the log since as_of, so it runs once per distinct content rather than once per request.
    private readonly Lock _checkedLock = new();
    private (byte[] Digest, List<BrainManifest> Trusted)? _checked;
    private readonly TimeProvider _clock;
    private volatile Seen? _seen;

    /// <summary>
    /// Opens the registry of the data folder <paramref name="directory"/> (its <c>brains.json</c>). Without a
    /// <paramref name="sealer"/> it is read-only: changes must be sealed, so <see cref="AddAsync"/> and
    /// <see cref="RemoveAsync"/> refuse.
    /// </summary>
    public BrainRegistry(string directory, EntrySealer? sealer = null, TimeProvider? clock = null)
        : this(FileDocument(directory), sealer, clock)
    {
    }

    /// <summary>The registry kept in <paramref name="document"/> (a shared store's row, or a file); as the other constructor.</summary>
    public BrainRegistry(IStateDocument document, EntrySealer? sealer = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        _document = document;
        _sealer = sealer;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Where the registry is kept, as messages name it: the full path of <c>brains.json</c>, or the database row.</summary>
    public string Location => _document.Location;

    /// <summary>The registry file of the data folder <paramref name="directory"/>, changed under its <c>brains.lock</c>.</summary>
    public static FileStateDocument FileDocument(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return new FileStateDocument(Path.Combine(directory, FileName), Path.Combine(directory, LockFileName));
    }

    /// <summary>
    /// What authenticates <c>brains.json</c>: with it, the file is written with a MAC and its <c>as_of</c>, a file that
    /// fails the MAC is refused (<see cref="StateFileException"/>), and a brain the log removed or re-pinned since
    /// <c>as_of</c> is taken out. Without it the file is read as it stands (listing without the passphrase, tests).
    /// </summary>
    public StateFileAuthority? Authority { get; init; }

    /// <summary>Every registered brain, by name.</summary>
    public IReadOnlyList<BrainManifest> List() => Read();

    /// <summary>The brain named <paramref name="name"/>, or null.</summary>
    public BrainManifest? Find(string name) => Read().FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal));

    /// <summary>The brain named <paramref name="name"/>; throws <see cref="BrainRegistryException"/> when there is none.</summary>
    public BrainManifest Get(string name) =>
        Find(name) ?? throw new BrainRegistryException($"no brain named '{name}' is registered in {Location}");

    /// <summary>
    /// Registers <paramref name="draft"/>: for a local brain, resolves its file paths to full paths, hashes the files
    /// and pins their digests (a digest already in the draft must match the file, else
    /// <see cref="WeightMismatchException"/>); for an upstream brain, which has nothing here to hash, keeps its URL in
    /// canonical form. Then seals <c>brain.registered</c> and commits. Refuses invalid manifests
    /// (<see cref="BrainManifestException"/>), files that are not a GGUF model and a LoRA adapter for it
    /// (<see cref="Engines.ModelLoadException"/>, see <see cref="WeightFiles"/>) and taken names
    /// (<see cref="BrainRegistryException"/>), all before anything is sealed.
    /// Returns the manifest as registered.
    /// </summary>
    public async Task<BrainManifest> AddAsync(BrainManifest draft, IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var sealer = RequireSealer();
        draft.Validate(requirePins: false);
        RefuseTaken(Read(), draft.Name);
        var pinned = draft.Upstream is { } upstream
            // The canonical form is what the log names (BrainEntries.Ref), so brains.json says the same.
            ? draft with { Upstream = upstream with { Url = new Uri(upstream.Url.AbsoluteUri) } }
            : await PinLocalAsync(draft, progress, cancellationToken).ConfigureAwait(false);
        pinned.Validate(requirePins: true);
        var entry = BrainEntries.Registered(pinned, BrainEntries.Operator, _clock);

        await _document.ChangeAsync(async (bytes, ct) =>
        {
            var brains = Read(bytes).ToList();
            RefuseTaken(brains, pinned.Name);
            // Seal first: if we crash after this, the log claims a brain the folder never got, which is harmless.
            await sealer(entry, ct).ConfigureAwait(false);
            brains.Add(pinned);
            return new StateChange<bool>(Write(brains), true);
        }, cancellationToken).ConfigureAwait(false);

        return pinned;
    }

    /// <summary>
    /// Removes the brain named <paramref name="name"/>: commits the smaller registry, then seals <c>brain.removed</c>.
    /// Returns the removed manifest.
    /// </summary>
    public async Task<BrainManifest> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        var sealer = RequireSealer();
        var (brain, entry) = await _document.ChangeAsync((bytes, _) =>
        {
            var brains = Read(bytes).ToList();
            var brain = brains.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal))
                ?? throw new BrainRegistryException($"no brain named '{name}' is registered in {Location}");
            brains.Remove(brain);
            return Task.FromResult(new StateChange<(BrainManifest, byte[])>(Write(brains), (brain, BrainEntries.Removed(brain, BrainEntries.Operator, _clock))));
        }, cancellationToken).ConfigureAwait(false);

        // Committed first: once the change returned the brain cannot be loaded, so the brain.removed that follows can
        // never precede an answer by it. A crash in between leaves a stale registration, never a hidden brain.
        try
        {
            await sealer(entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new BrainRegistryException($"brain '{name}' was removed, but its brain.removed entry could not be sealed: {e.Message}", e);
        }

        return brain;
    }

    /// <summary>
    /// Re-hashes the model and adapter of the brain named <paramref name="name"/> against their pinned digests.
    /// Returns the manifest when both match; throws <see cref="WeightMismatchException"/> naming the file and both
    /// digests (or that it is missing) otherwise. An upstream brain has no local weights: it is returned at once,
    /// nothing hashed (its <see cref="BrainManifest.Upstream"/> says why).
    /// </summary>
    public async Task<BrainManifest> VerifyAsync(string name, IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var brain = Get(name);
        await VerifyWeightsAsync(brain, progress, cancellationToken).ConfigureAwait(false);
        return brain;
    }

    /// <summary>
    /// Re-hashes <paramref name="brain"/>'s model, then its adapter, against their pinned digests; throws
    /// <see cref="WeightMismatchException"/> for the first that differs or is missing. Does nothing for an upstream brain.
    /// </summary>
    public static async Task VerifyWeightsAsync(BrainManifest brain, IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brain);
        var check = (await CheckWeightsAsync([brain], progress, cancellationToken).ConfigureAwait(false))[0];
        if (check.Mismatch is { } mismatch)
        {
            throw mismatch;
        }
    }

    /// <summary>
    /// Re-hashes the weights of every brain in <paramref name="brains"/>, hashing a file shared by several (one
    /// base model under many adapters) only once. Returns one result per brain, in order; an upstream brain's result
    /// has <see cref="WeightCheck.NothingToVerify"/> set and no mismatch, since it has no local weights.
    /// </summary>
    public static async Task<IReadOnlyList<WeightCheck>> CheckWeightsAsync(IReadOnlyList<BrainManifest> brains, IProgress<HashProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(brains);
        var digests = new Dictionary<string, string?>(StringComparer.Ordinal);
        var results = new List<WeightCheck>(brains.Count);
        foreach (var brain in brains)
        {
            brain.Validate(requirePins: true);
            if (brain.Upstream is not null)
            {
                results.Add(new WeightCheck(brain, null));
                continue;
            }

            var mismatch = await CheckFileAsync(brain.ModelPath!, brain.ModelSha256!, "model").ConfigureAwait(false);
            if (mismatch is null && brain.AdapterPath is not null)
            {
                mismatch = await CheckFileAsync(brain.AdapterPath, brain.AdapterSha256!, "adapter").ConfigureAwait(false);
            }

            if (mismatch is null && brain.ChatTemplatePath is not null)
            {
                mismatch = await CheckFileAsync(brain.ChatTemplatePath, brain.ChatTemplateSha256!, "chat template").ConfigureAwait(false);
            }

            results.Add(new WeightCheck(brain, mismatch));
        }

        return results;

        async Task<WeightMismatchException?> CheckFileAsync(string path, string expected, string role)
        {
            if (!digests.TryGetValue(path, out var actual))
            {
                try
                {
                    actual = await WeightDigest.ComputeAsync(path, Relay(progress, path), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    actual = null;
                }

                digests[path] = actual;
            }

            return string.Equals(actual, expected, StringComparison.Ordinal) ? null : new WeightMismatchException(path, expected, actual, role);
        }
    }

    /// <summary>One manifest (a draft or a registered brain) as JSON, in the same form as in <c>brains.json</c>.</summary>
    public static byte[] ManifestToJson(BrainManifest brain) =>
        JsonSerializer.SerializeToUtf8Bytes(brain, BrainsJson.Default.BrainManifest);

    /// <summary>
    /// Reads one manifest written by <see cref="ManifestToJson"/>; throws <see cref="BrainManifestException"/> for
    /// anything else, unknown members included. The manifest is not validated: registering it does that.
    /// </summary>
    public static BrainManifest ManifestFromJson(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, BrainsJson.Default.BrainManifest)
                ?? throw new BrainManifestException("the brain manifest is null, not a JSON object");
        }
        catch (JsonException e)
        {
            throw new BrainManifestException($"the brain manifest is not valid JSON of a brain: {e.Message}", e);
        }
    }

    /// <summary>Brains as an indented JSON array, in the same form as in <c>brains.json</c>.</summary>
    public static string ToJson(IReadOnlyList<BrainManifest> brains) =>
        JsonSerializer.Serialize(brains.ToList(), BrainsJson.Default.ListBrainManifest);

    private EntrySealer RequireSealer() =>
        _sealer ?? throw new InvalidOperationException("this brain registry was opened read-only; changes to brains are sealed, so open it with a sealer");

    private static void RefuseTaken(IEnumerable<BrainManifest> brains, string name)
    {
        if (brains.Any(b => string.Equals(b.Name, name, StringComparison.Ordinal)))
        {
            throw new BrainRegistryException($"a brain named '{name}' is already registered; remove it first or choose another name");
        }
    }

    private static async Task<BrainManifest> PinLocalAsync(BrainManifest draft, IProgress<HashProgress>? progress, CancellationToken cancellationToken)
    {
        // Checked before anything is hashed or sealed: a brain.registered must never name a file that cannot load.
        var model = Path.GetFullPath(draft.ModelPath!);
        var header = WeightFiles.ReadModel(model);
        var adapter = draft.AdapterPath is null ? null : Path.GetFullPath(draft.AdapterPath);
        if (adapter is not null)
        {
            WeightFiles.ReadAdapter(adapter, header, model);
        }

        // The template is tried before anything is sealed too, so one this server cannot render is refused here, naming the construct.
        var template = draft.ChatTemplatePath is null ? null : Path.GetFullPath(draft.ChatTemplatePath);
        var templateDigest = template is null ? null : ChatTemplateFile.Check(template, header, draft.ChatTemplateSha256);
        if (template is null)
        {
            _ = Prompts.PromptTemplate.FromGguf(header, model);
        }

        // Hashing happens before the lock is taken: a large model takes a while, and nothing here depends on the registry's contents.
        return draft with
        {
            ChatTemplatePath = template,
            ChatTemplateSha256 = templateDigest,
            ModelPath = model,
            ModelSha256 = await PinAsync(model, draft.ModelSha256, "model", progress, cancellationToken).ConfigureAwait(false),
            AdapterPath = adapter,
            AdapterSha256 = adapter is null ? null : await PinAsync(adapter, draft.AdapterSha256, "adapter", progress, cancellationToken).ConfigureAwait(false),
            AdapterScale = adapter is null ? null : draft.AdapterScale ?? 1f,
        };
    }

    private static async Task<string> PinAsync(string path, string? expected, string role, IProgress<HashProgress>? progress, CancellationToken ct) =>
        expected is null
            ? await WeightDigest.ComputeAsync(path, Relay(progress, path), ct).ConfigureAwait(false)
            : await WeightDigest.VerifyAsync(path, expected, role, Relay(progress, path), ct).ConfigureAwait(false);

    private static SyncProgress? Relay(IProgress<HashProgress>? progress, string path)
    {
        if (progress is null)
        {
            return null;
        }

        var info = new FileInfo(path);
        var length = info.Exists ? info.Length : 0;
        return new SyncProgress(hashed => progress.Report(new HashProgress(path, hashed, length)));
    }

    /// <summary>Rewrites the (checked) registry with the log's current size as its <c>as_of</c>; a server does this at start.</summary>
    public Task RefreshAsync(CancellationToken cancellationToken = default) =>
        _document.ChangeAsync((bytes, _) => Task.FromResult(new StateChange<bool>(bytes is null ? null : Write(Read(bytes)), true)), cancellationToken);

    /// <summary>
    /// Takes the registry as it stands, unchecked (from before authenticated state files, or inspected by the
    /// operator), and rewrites it authenticated. Returns the brains adopted; the caller seals that it did first.
    /// </summary>
    public Task<IReadOnlyList<BrainManifest>> AdoptAsync(CancellationToken cancellationToken = default)
    {
        _ = Authority ?? throw new InvalidOperationException("adopting the brain registry needs its authority");
        return _document.ChangeAsync((bytes, _) =>
        {
            IReadOnlyList<BrainManifest> brains = Read(bytes, check: false);
            return Task.FromResult(new StateChange<IReadOnlyList<BrainManifest>>(bytes is null ? null : Write([.. brains]), brains));
        }, cancellationToken);
    }

    /// <summary>Whether the registry has ever been written.</summary>
    public bool Exists => _document.Read().Bytes is not null;

    // The gateway reads the registry on every request: while the document is unchanged (a stat, or one version query on
    // a shared store) the brains last read from it are reused rather than fetched and parsed again.
    private List<BrainManifest> Read()
    {
        if (_seen is { } seen && _document.IsCurrent(seen.Stamp))
        {
            return [.. seen.Brains];
        }

        var document = _document.Read();
        var brains = Read(document.Bytes);
        _seen = new Seen(document.Stamp, brains);
        return [.. brains];
    }

    private List<BrainManifest> Read(byte[]? bytes, bool check = true)
    {
        if (bytes is null)
        {
            return [];
        }

        BrainsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(bytes, BrainsJson.Default.BrainsFile);
        }
        catch (JsonException e)
        {
            throw new FormatViolationException($"{Location} is not a valid brain registry: {e.Message}", e);
        }

        if (file is null || file.Format is not (BrainsFile.CurrentFormat or BrainsFile.UnauthenticatedFormat)
            || (file.Format == BrainsFile.UnauthenticatedFormat && (file.AsOf is not null || file.Mac is not null)))
        {
            throw new FormatViolationException($"{Location} is not a format-{BrainsFile.CurrentFormat} brain registry");
        }

        foreach (var brain in file.Brains)
        {
            var problems = brain.Problems(requirePins: true);
            if (problems.Count > 0)
            {
                throw new FormatViolationException($"{Location} holds an invalid brain '{brain.Name}': {string.Join("; ", problems)}");
            }
        }

        var duplicate = file.Brains.GroupBy(b => b.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new FormatViolationException($"{Location} lists brain '{duplicate.Key}' more than once");
        }

        List<BrainManifest> ordered = [.. file.Brains.OrderBy(b => b.Name, StringComparer.Ordinal)];
        if (!check || Authority is not { } authority)
        {
            return ordered;
        }

        var digest = SHA256.HashData(bytes);
        lock (_checkedLock)
        {
            if (_checked is { } seen && seen.Digest.AsSpan().SequenceEqual(digest))
            {
                return [.. seen.Trusted];
            }
        }

        var trusted = BrainFileChecks.Check(authority, file, ordered, Location);
        lock (_checkedLock)
        {
            _checked = (digest, trusted);
        }

        return [.. trusted];
    }

    private byte[] Write(List<BrainManifest> brains)
    {
        var file = new BrainsFile { Brains = [.. brains.OrderBy(b => b.Name, StringComparer.Ordinal)] };
        if (Authority is { } authority)
        {
            file = new BrainsFile { AsOf = authority.LogSize(), Brains = file.Brains };
            file = new BrainsFile { AsOf = file.AsOf, Brains = file.Brains, Mac = authority.Mac(BrainsFile.Kind, BrainsFile.Body(file)) };
        }

        return JsonSerializer.SerializeToUtf8Bytes(file, BrainsJson.Default.BrainsFile);
    }

    private sealed record Seen(StateStamp Stamp, List<BrainManifest> Brains);

    /// <summary>Reports on the caller's thread, in order (unlike <see cref="Progress{T}"/>, which posts).</summary>
    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

/// <summary>The outcome of re-hashing one brain's weights.</summary>
/// <param name="Brain">The brain checked.</param>
/// <param name="Mismatch">Null when its weights match their pins (or it has none here); else the first file that differs or is missing.</param>
public sealed record WeightCheck(BrainManifest Brain, WeightMismatchException? Mismatch)
{
    /// <summary>True for an upstream brain: it has no local weights, so nothing was hashed, which is not a failure.</summary>
    public bool NothingToVerify => Brain.Upstream is not null;
}

/// <summary>The registry cannot do what was asked: a name taken or unknown, a file missing, a change not sealed.</summary>
public sealed class BrainRegistryException : Exception
{
    /// <summary>Creates the exception with a message a person can act on.</summary>
    public BrainRegistryException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public BrainRegistryException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no message.</summary>
    public BrainRegistryException() { }
}

/// <summary>The contents of <c>brains.json</c>.</summary>
internal sealed class BrainsFile
{
    /// <summary>Format 2 added <c>as_of</c> and <c>mac</c> (see <see cref="StateFileAuthority"/>).</summary>
    public const int CurrentFormat = 2;

    /// <summary>The format written before state files were authenticated: read only for <c>sios state adopt</c>.</summary>
    public const int UnauthenticatedFormat = 1;

    /// <summary>The kind the MAC binds.</summary>
    public const string Kind = "brains";

    public int Format { get; init; } = CurrentFormat;

    /// <summary>The log's size when the file was written: every brain entry from there on must be reflected in it.</summary>
    public long? AsOf { get; init; }

    public List<BrainManifest> Brains { get; init; } = [];

    /// <summary>The state-file MAC over everything above; absent in files written without the master secret.</summary>
    public string? Mac { get; init; }

    /// <summary>The bytes a MAC covers: the file as it would be written, without its MAC.</summary>
    public static byte[] Body(BrainsFile file) =>
        JsonSerializer.SerializeToUtf8Bytes(new BrainsFile { Format = file.Format, AsOf = file.AsOf, Brains = file.Brains }, BrainsJson.Default.BrainsFile);
}

// Unknown members are refused, not dropped: a newer SIOS's fields would otherwise vanish on the next write.
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(BrainsFile))]
[JsonSerializable(typeof(List<BrainManifest>))]
[JsonSerializable(typeof(BrainManifest))]
internal sealed partial class BrainsJson : JsonSerializerContext;
