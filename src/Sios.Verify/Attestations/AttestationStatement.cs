using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;

namespace Sios.Verify.Attestations;

/// <summary>Whether a brain's weight files on disk still hash to their pinned digests when the statement was made.</summary>
public enum DiskState
{
    /// <summary>Every file is present and matches its pin.</summary>
    Ok,

    /// <summary>A file is present but its digest differs from the pin.</summary>
    Changed,

    /// <summary>A file is absent or unreadable.</summary>
    Missing,
}

/// <summary>One file of the running software and its SHA-256 (<c>sha256:&lt;hex&gt;</c>).</summary>
/// <param name="Name">Path relative to the program's folder, with '/' separators.</param>
/// <param name="Sha256">The file's digest.</param>
public sealed record AttestedComponent(string Name, string Sha256);

/// <summary>
/// One brain as attested: a local brain has <see cref="Weights"/> (and maybe <see cref="Adapter"/>) with a
/// <see cref="Disk"/> state; an upstream brain has <see cref="UpstreamUrl"/> and <see cref="UpstreamModel"/> instead.
/// </summary>
/// <param name="Name">The brain's name.</param>
/// <param name="Weights">The pinned model digest, or null for an upstream brain.</param>
/// <param name="Adapter">The pinned adapter digest, or null for none.</param>
/// <param name="Disk">Whether the files still match, or null for an upstream brain.</param>
/// <param name="UpstreamUrl">The upstream endpoint's root URL, or null for a local brain.</param>
/// <param name="UpstreamModel">The upstream model id, or null for a local brain.</param>
public sealed record AttestedBrain(string Name, string? Weights, string? Adapter, DiskState? Disk, string? UpstreamUrl, string? UpstreamModel)
{
    /// <summary>True for an upstream brain (no local weights).</summary>
    public bool IsUpstream => UpstreamUrl is not null;

    /// <summary>A local brain.</summary>
    public static AttestedBrain Local(string name, string weights, string? adapter, DiskState disk) => new(name, weights, adapter, disk, null, null);

    /// <summary>An upstream brain.</summary>
    public static AttestedBrain Remote(string name, string url, string model) => new(name, null, null, null, url, model);
}

/// <summary>Limits applied before parsing an attestation, against denial of service.</summary>
/// <param name="MaxBytes">Largest signed statement accepted, in bytes.</param>
/// <param name="MaxLines">Most text lines accepted.</param>
public sealed record AttestationLimits(int MaxBytes = 1 << 20, int MaxLines = 20_000)
{
    /// <summary>The defaults: 1 MiB and 20,000 lines.</summary>
    public static AttestationLimits Default { get; } = new();
}

/// <summary>
/// The text of a SIOS attestation (the sovereignty statement), format <c>sios-attestation/v1</c>: documented
/// <c>keyword value</c> lines in a fixed order, one canonical spelling, so a person can read it and a program can
/// re-derive it byte for byte. <see cref="ToText"/> writes it; <see cref="Parse"/> accepts only what
/// <see cref="ToText"/> would write.
/// </summary>
/// <remarks>
/// Lines, in order (<c>*</c>: zero or more, sorted ordinally): <c>sios-attestation/v1</c>; <c>origin ORIGIN</c>;
/// <c>time RFC3339-UTC-ms</c>; <c>log-size N</c>; <c>log-root BASE64</c>; <c>version VERSION</c>;
/// <c>software sha256:HEX</c>; <c>component NAME sha256:HEX</c>*; <c>config sha256:HEX</c>;
/// <c>egress none</c> or <c>egress HOST</c>*; <c>listen URL</c>*; <c>signer ml-dsa-65 VKEY</c> then optionally
/// <c>signer ml-dsa-44-cosignature VKEY</c>; <c>brain NAME weights sha256:HEX adapter sha256:HEX|none disk ok|changed|missing</c>*
/// or <c>brain NAME upstream URL MODEL</c>. Its first two lines can never be a checkpoint's (whose second line is a
/// number), so a checkpoint signed by the same key is never mistaken for an attestation, nor the reverse.
/// </remarks>
public sealed class AttestationStatement
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The first line of every statement.</summary>
    public const string Header = "sios-attestation/v1";

    /// <summary>The log's origin (the signing key's name).</summary>
    public required string Origin { get; init; }

    /// <summary>When the statement was made, UTC, milliseconds.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The log's tree size when the statement was made (its latest signed checkpoint).</summary>
    public required long LogSize { get; init; }

    /// <summary>The log's root hash at <see cref="LogSize"/>.</summary>
    public required byte[] LogRoot { get; init; }

    /// <summary>The software's informational version.</summary>
    public required string Version { get; init; }

    /// <summary>SHA-256 over the component list (see <see cref="SoftwareDigest"/>).</summary>
    public string Software => SoftwareDigest(Components);

    /// <summary>The files of the running software, sorted by name.</summary>
    public required IReadOnlyList<AttestedComponent> Components { get; init; }

    /// <summary>The configuration digest (<c>sha256:&lt;hex&gt;</c>), as sealed in <c>system.started</c>.</summary>
    public required string Config { get; init; }

    /// <summary>Hosts upstream brains may be reached at, sorted; empty means no egress at all.</summary>
    public required IReadOnlyList<string> Egress { get; init; }

    /// <summary>Addresses the gateway listens on, sorted; empty when no server was running.</summary>
    public required IReadOnlyList<string> Listen { get; init; }

    /// <summary>The log's verifier keys, ML-DSA-65 first.</summary>
    public required IReadOnlyList<VerifierKey> Signers { get; init; }

    /// <summary>Every registered brain, sorted by name.</summary>
    public required IReadOnlyList<AttestedBrain> Brains { get; init; }

    /// <summary>
    /// The software digest: <c>sha256:</c> + hex SHA-256 of the UTF-8 lines <c>NAME SP sha256:HEX LF</c>, one per
    /// component, in ordinal order of name.
    /// </summary>
    public static string SoftwareDigest(IEnumerable<AttestedComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        var text = new StringBuilder();
        foreach (var c in components.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            text.Append(c.Name).Append(' ').Append(c.Sha256).Append('\n');
        }

        return Digest(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary><c>sha256:</c> + lowercase hex SHA-256 of <paramref name="bytes"/>.</summary>
    public static string Digest(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The lines that vary with the moment rather than with the machine (ignored when comparing for drift).</summary>
    public static bool IsMomentLine(string line) =>
        line.StartsWith("time ", StringComparison.Ordinal) || line.StartsWith("log-size ", StringComparison.Ordinal) || line.StartsWith("log-root ", StringComparison.Ordinal);

    /// <summary>The statement text: every line newline-terminated, ready to be signed as a note.</summary>
    public string ToText()
    {
        Validate();
        var sb = new StringBuilder();
        void Line(string keyword, string value) => sb.Append(keyword).Append(' ').Append(value).Append('\n');
        sb.Append(Header).Append('\n');
        Line("origin", Origin);
        Line("time", FormatTime(Time));
        Line("log-size", LogSize.ToString(CultureInfo.InvariantCulture));
        Line("log-root", Convert.ToBase64String(LogRoot));
        Line("version", Version);
        Line("software", Software);
        foreach (var c in Components)
        {
            Line("component", $"{c.Name} {c.Sha256}");
        }

        Line("config", Config);
        if (Egress.Count == 0)
        {
            Line("egress", "none");
        }

        foreach (var host in Egress)
        {
            Line("egress", host);
        }

        foreach (var url in Listen)
        {
            Line("listen", url);
        }

        foreach (var key in Signers)
        {
            Line("signer", $"{KindLabel(key.Kind)} {key}");
        }

        foreach (var b in Brains)
        {
            Line("brain", b.IsUpstream
                ? $"{b.Name} upstream {b.UpstreamUrl} {b.UpstreamModel}"
                : $"{b.Name} weights {b.Weights} adapter {b.Adapter ?? "none"} disk {DiskLabel(b.Disk!.Value)}");
        }

        return sb.ToString();
    }

    /// <summary>Parses statement text (a signed note's text, final newline included); rejects anything not canonical.</summary>
    public static AttestationStatement Parse(string text, AttestationLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        limits ??= AttestationLimits.Default;
        if (text.Length > limits.MaxBytes)
        {
            throw new FormatViolationException($"attestation is over the limit of {limits.MaxBytes} bytes");
        }

        if (!text.EndsWith('\n'))
        {
            throw new FormatViolationException("attestation text must end with a newline");
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length > limits.MaxLines)
        {
            throw new FormatViolationException($"attestation has {lines.Length} lines, over the limit of {limits.MaxLines}");
        }

        var reader = new LineReader(lines);
        if (!string.Equals(reader.Next("the header"), Header, StringComparison.Ordinal))
        {
            throw new FormatViolationException($"line 1 must be '{Header}'");
        }

        var origin = reader.Value("origin");
        var time = ParseTime(reader.Value("time"), reader.Number);
        var size = Checkpoints.Checkpoint.ParseDecimal(reader.Value("log-size"), "log-size");
        var root = NoteText.DecodeBase64(reader.Value("log-root"), "log-root");
        var version = reader.Value("version");
        var software = reader.Value("software");
        var components = reader.Many("component").Select(ParseComponent).ToList();
        var config = reader.Value("config");
        var egress = reader.Many("egress");
        if (egress.Count == 0)
        {
            throw new FormatViolationException("an attestation has at least one egress line ('egress none' for no egress)");
        }

        if (egress is ["none"])
        {
            egress = [];
        }

        var listen = reader.Many("listen");
        var signers = reader.Many("signer").Select(ParseSigner).ToList();
        var brains = reader.Many("brain").Select(ParseBrain).ToList();
        if (!reader.AtEnd)
        {
            throw new FormatViolationException($"line {reader.Number + 1} is not expected here: '{Truncate(lines[reader.Number])}'");
        }

        var statement = new AttestationStatement
        {
            Origin = origin, Time = time, LogSize = size, LogRoot = root, Version = version, Components = components,
            Config = config, Egress = egress, Listen = listen, Signers = signers, Brains = brains,
        };
        statement.Validate();
        if (!string.Equals(statement.Software, software, StringComparison.Ordinal))
        {
            throw new FormatViolationException($"the software digest {software} is not the digest of the component lines ({statement.Software})");
        }

        if (!string.Equals(statement.ToText(), text, StringComparison.Ordinal))
        {
            throw new FormatViolationException("attestation is not in its canonical form (spacing, order or spelling differs)");
        }

        return statement;
    }

    /// <summary>Throws <see cref="FormatViolationException"/> naming the first field that cannot be written canonically.</summary>
    public void Validate()
    {
        NoteText.RequireValidKeyName(Origin, "origin");
        if (LogSize < 0 || LogRoot is not { Length: Rfc6962.HashSize })
        {
            throw new FormatViolationException($"log-size must be non-negative and log-root {Rfc6962.HashSize} bytes");
        }

        Token(Version, "version");
        RequireDigest(Config, "config");
        RequireSortedUnique(Components.Select(c => c.Name), "component");
        foreach (var c in Components)
        {
            Token(c.Name, "component name");
            RequireDigest(c.Sha256, $"component {c.Name}");
        }

        RequireSortedUnique(Egress, "egress");
        foreach (var host in Egress)
        {
            Token(host, "egress host");
            if (host == "none")
            {
                throw new FormatViolationException("'none' cannot be an egress host");
            }
        }

        RequireSortedUnique(Listen, "listen");
        foreach (var url in Listen)
        {
            Token(url, "listen address");
        }

        if (Signers.Count == 0 || Signers[0].Kind != NoteKeyKind.MlDsa65 || Signers.Any(k => k.Name != Origin))
        {
            throw new FormatViolationException("the first signer must be the log's ML-DSA-65 key, and every signer must be named by the origin");
        }

        RequireSortedUnique(Brains.Select(b => b.Name), "brain");
        foreach (var b in Brains)
        {
            ValidateBrain(b);
        }
    }

    private static void ValidateBrain(AttestedBrain b)
    {
        Token(b.Name, "brain name");
        if (b.IsUpstream)
        {
            Token(b.UpstreamUrl!, $"brain {b.Name} upstream URL");
            if (string.IsNullOrEmpty(b.UpstreamModel) || b.UpstreamModel.Any(char.IsControl) || b.UpstreamModel.Trim() != b.UpstreamModel
                || b.Weights is not null || b.Adapter is not null || b.Disk is not null)
            {
                throw new FormatViolationException($"brain {b.Name}: an upstream brain has a model id (no control characters, no outer spaces) and no weights");
            }
        }
        else
        {
            RequireDigest(b.Weights, $"brain {b.Name} weights");
            if (b.Adapter is not null)
            {
                RequireDigest(b.Adapter, $"brain {b.Name} adapter");
            }

            if (b.Disk is null || b.UpstreamModel is not null)
            {
                throw new FormatViolationException($"brain {b.Name}: a local brain has a disk state and no upstream model");
            }
        }
    }

    private static AttestedComponent ParseComponent(string value)
    {
        var f = Fields(value, 2, "component");
        return new AttestedComponent(f[0], f[1]);
    }

    private static VerifierKey ParseSigner(string value)
    {
        var f = Fields(value, 2, "signer");
        var key = VerifierKey.Parse(f[1]);
        if (!string.Equals(KindLabel(key.Kind), f[0], StringComparison.Ordinal))
        {
            throw new FormatViolationException($"signer labelled {f[0]} is a {KindLabel(key.Kind)} key");
        }

        return key;
    }

    private static AttestedBrain ParseBrain(string value)
    {
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space > 0 && value.AsSpan(space + 1).StartsWith("upstream "))
        {
            var rest = value[(space + "upstream ".Length + 1)..];
            var split = rest.IndexOf(' ', StringComparison.Ordinal);
            if (split <= 0)
            {
                throw new FormatViolationException("an upstream brain line is 'brain NAME upstream URL MODEL'");
            }

            return AttestedBrain.Remote(value[..space], rest[..split], rest[(split + 1)..]);
        }

        var f = Fields(value, 7, "brain");
        if (f[1] != "weights" || f[3] != "adapter" || f[5] != "disk")
        {
            throw new FormatViolationException("a brain line is 'brain NAME weights DIGEST adapter DIGEST|none disk ok|changed|missing'");
        }

        var disk = f[6] switch
        {
            "ok" => DiskState.Ok,
            "changed" => DiskState.Changed,
            "missing" => DiskState.Missing,
            _ => throw new FormatViolationException($"brain {f[0]}: disk state '{Truncate(f[6])}' is not ok, changed or missing"),
        };
        return AttestedBrain.Local(f[0], f[2], f[4] == "none" ? null : f[4], disk);
    }

    /// <summary>The label written before a signer's vkey.</summary>
    public static string KindLabel(NoteKeyKind kind) => kind switch
    {
        NoteKeyKind.MlDsa65 => "ml-dsa-65",
        NoteKeyKind.MlDsa44Cosignature => "ml-dsa-44-cosignature",
        NoteKeyKind.Ed25519Cosignature => "ed25519-cosignature",
        _ => "ed25519",
    };

    private static string DiskLabel(DiskState state) => state switch
    {
        DiskState.Ok => "ok",
        DiskState.Changed => "changed",
        _ => "missing",
    };

    /// <summary>RFC 3339 UTC with milliseconds, as in log entries.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string value, int line) =>
        DateTimeOffset.TryParseExact(value, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new FormatViolationException($"line {line}: time '{Truncate(value)}' is not RFC 3339 UTC with milliseconds");

    private static string[] Fields(string value, int count, string what)
    {
        var f = value.Split(' ');
        if (f.Length != count || f.Any(string.IsNullOrEmpty))
        {
            throw new FormatViolationException($"a {what} line has {count} space-separated fields after its keyword");
        }

        return f;
    }

    private static void Token(string? value, string what)
    {
        if (string.IsNullOrEmpty(value) || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new FormatViolationException($"{what} must be non-empty, without spaces or control characters");
        }
    }

    private static void RequireDigest(string? value, string what)
    {
        if (value is not { Length: 71 } || !value.StartsWith("sha256:", StringComparison.Ordinal)
            || value.AsSpan(7).ContainsAnyExcept(LowerHex))
        {
            throw new FormatViolationException($"{what} '{Truncate(value ?? "")}' is not sha256:<64 lowercase hex>");
        }
    }

    private static void RequireSortedUnique(IEnumerable<string> values, string what)
    {
        string? previous = null;
        foreach (var v in values)
        {
            if (previous is not null && string.CompareOrdinal(previous, v) >= 0)
            {
                throw new FormatViolationException($"{what} lines must be sorted and unique ('{Truncate(previous)}' then '{Truncate(v)}')");
            }

            previous = v;
        }
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>Reads <c>keyword value</c> lines in order.</summary>
    private sealed class LineReader(string[] lines)
    {
        public int Number { get; private set; }

        public bool AtEnd => Number >= lines.Length;

        public string Next(string what) =>
            AtEnd ? throw new FormatViolationException($"attestation ends before {what}") : lines[Number++];

        public string Value(string keyword)
        {
            var line = Next($"its '{keyword}' line");
            return line.StartsWith(keyword + " ", StringComparison.Ordinal)
                ? line[(keyword.Length + 1)..]
                : throw new FormatViolationException($"line {Number}: expected '{keyword} ...', got '{Truncate(line)}'");
        }

        public List<string> Many(string keyword)
        {
            var values = new List<string>();
            while (!AtEnd && lines[Number].StartsWith(keyword + " ", StringComparison.Ordinal))
            {
                values.Add(lines[Number++][(keyword.Length + 1)..]);
            }

            return values;
        }
    }
}
