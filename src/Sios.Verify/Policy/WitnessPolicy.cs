using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sios.Verify.Notes;

namespace Sios.Verify.Policy;

/// <summary>A <c>log</c> line of a policy: a log's vkey and, optionally, where to reach it.</summary>
/// <param name="Key">The log's vkey (its name is the log's origin).</param>
/// <param name="Url">The URL given, or null.</param>
public sealed record PolicyLog(VerifierKey Key, Uri? Url);

/// <summary>A <c>witness</c> line of a policy.</summary>
/// <param name="Name">The name the policy gives it (only meaningful inside the policy).</param>
/// <param name="Key">Its cosigning vkey (a <c>cosignature/v1</c> or <c>subtree/v1</c> key).</param>
/// <param name="Url">Its tlog-witness submission prefix, or null.</param>
public sealed record PolicyWitness(string Name, VerifierKey Key, Uri? Url);

/// <summary>
/// A transparency log trust policy in the c2sp.org/tlog-policy format: the known logs, the known witnesses, and the
/// quorum of witnesses whose cosignatures make a checkpoint valid. Parsing follows the spec's rules (whitespace is
/// space and tab only, names are opaque octets, a group names only what precedes it, each member at most once,
/// 1 &lt;= k &lt;= n, exactly one quorum line, no duplicate keys, <c>none</c> is predefined).
/// </summary>
public sealed class WitnessPolicy
{
    /// <summary>Largest policy file accepted.</summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>Most logs, witnesses and groups each (the spec asks implementations to support at least 32).</summary>
    public const int MaxItems = 256;

    private const string None = "none";
    private readonly Node _quorum;

    private WitnessPolicy(List<PolicyLog> logs, List<PolicyWitness> witnesses, Node quorum, string quorumName, byte[] digest)
    {
        Logs = logs;
        Witnesses = witnesses;
        _quorum = quorum;
        QuorumName = quorumName;
        Digest = digest;
    }

    /// <summary>The logs the policy lists, in file order.</summary>
    public IReadOnlyList<PolicyLog> Logs { get; }

    /// <summary>The witnesses the policy lists, in file order.</summary>
    public IReadOnlyList<PolicyWitness> Witnesses { get; }

    /// <summary>The name on the quorum line (<c>none</c> when no cosignature is required).</summary>
    public string QuorumName { get; }

    /// <summary>SHA-256 of the policy file's bytes, exactly as read (what <c>system.started</c> seals).</summary>
    public byte[] Digest { get; }

    /// <summary>Whether the quorum asks for no cosignature at all (<c>quorum none</c>).</summary>
    public bool RequiresNoWitness => _quorum is NoneNode;

    /// <summary>Whether the witnesses in <paramref name="cosigned"/> (of this policy's <see cref="Witnesses"/>) together satisfy the quorum.</summary>
    public bool IsSatisfied(IEnumerable<PolicyWitness> cosigned)
    {
        ArgumentNullException.ThrowIfNull(cosigned);
        return _quorum.Witnessed(cosigned.ToHashSet<object>(ReferenceEqualityComparer.Instance));
    }

    /// <summary>The log keys the policy lists for <paramref name="origin"/> (log lines whose key name is the origin).</summary>
    public IReadOnlyList<VerifierKey> LogKeys(string origin) =>
        [.. Logs.Where(l => string.Equals(l.Key.Name, origin, StringComparison.Ordinal)).Select(l => l.Key)];

    /// <summary>Reads and parses a policy file; throws <see cref="FormatViolationException"/> naming the line at fault.</summary>
    public static WitnessPolicy Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenRead(path);
        if (file.Length > MaxBytes)
        {
            throw new FormatViolationException($"a policy is at most {MaxBytes} bytes; {path} is {file.Length}");
        }

        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return Parse(bytes);
    }

    /// <summary>Parses a policy; throws <see cref="FormatViolationException"/> naming the line at fault.</summary>
    public static WitnessPolicy Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            throw new FormatViolationException($"a policy is at most {MaxBytes} bytes, not {bytes.Length}");
        }

        foreach (var b in bytes)
        {
            if (b is < 0x20 and not (0x09 or 0x0A) || b == 0x7F)
            {
                throw new FormatViolationException($"a policy may hold no control character but tab and newline (found 0x{b:x2})");
            }
        }

        var parser = new Parser();
        // Names are opaque octets: Latin-1 maps each byte to one char, so comparisons are octet comparisons.
        var lines = Encoding.Latin1.GetString(bytes).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            try
            {
                parser.Line(lines[i]);
            }
            catch (FormatViolationException e)
            {
                throw new FormatViolationException($"policy line {i + 1}: {e.Message}");
            }
        }

        return parser.Finish(SHA256.HashData(bytes));
    }

    private sealed class Parser
    {
        private readonly List<PolicyLog> _logs = [];
        private readonly List<PolicyWitness> _witnesses = [];
        private readonly Dictionary<string, Node> _names = new(StringComparer.Ordinal) { [None] = new NoneNode() };
        private readonly HashSet<string> _publicKeys = new(StringComparer.Ordinal);
        private int _groups;
        private string? _quorum;

        public void Line(string line)
        {
            var items = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (items.Length == 0 || items[0].StartsWith('#'))
            {
                return;
            }

            switch (items[0])
            {
                case "log":
                    Log(items);
                    break;
                case "witness":
                    Witness(items);
                    break;
                case "group":
                    Group(items);
                    break;
                case "quorum":
                    Quorum(items);
                    break;
                default:
                    throw new FormatViolationException($"unknown keyword '{items[0]}' (log, witness, group, quorum)");
            }
        }

        public WitnessPolicy Finish(byte[] digest)
        {
            if (_quorum is null)
            {
                throw new FormatViolationException("a policy must have exactly one quorum line; it has none");
            }

            // Names are compared as octets (Latin-1 strings) while parsing; they are shown decoded as UTF-8, their intended text.
            return new WitnessPolicy(_logs, _witnesses, _names[_quorum], Text(_quorum), digest);
        }

        private void Log(string[] items)
        {
            if (items.Length is < 2 or > 3)
            {
                throw new FormatViolationException("a log line is 'log <vkey> [<url>]'");
            }

            var key = Key(items[1], "log");
            if (key.Kind is not (NoteKeyKind.Ed25519 or NoteKeyKind.MlDsa65 or NoteKeyKind.MlDsa44Cosignature))
            {
                throw new FormatViolationException($"a log key must be a checkpoint signing key (Ed25519, ML-DSA-65, or SIOS's ML-DSA-44 cosignature key), not {key.Kind}");
            }

            Count(_logs.Count, "logs");
            _logs.Add(new PolicyLog(key, items.Length == 3 ? Url(items[2]) : null));
        }

        private void Witness(string[] items)
        {
            if (items.Length is < 3 or > 4)
            {
                throw new FormatViolationException("a witness line is 'witness <name> <vkey> [<url>]'");
            }

            Define(items[1]);
            var key = Key(items[2], "witness");
            if (key.Kind is not (NoteKeyKind.Ed25519Cosignature or NoteKeyKind.MlDsa44Cosignature))
            {
                throw new FormatViolationException($"a witness key must be a cosignature key (cosignature/v1 0x04 or subtree/v1 0x06), not {key.Kind}");
            }

            Count(_witnesses.Count, "witnesses");
            var witness = new PolicyWitness(Text(items[1]), key, items.Length == 4 ? Url(items[3]) : null);
            _witnesses.Add(witness);
            _names[items[1]] = new WitnessNode(witness);
        }

        private void Group(string[] items)
        {
            if (items.Length < 4)
            {
                throw new FormatViolationException("a group line is 'group <name> all|any|<k> <member>...' with at least one member");
            }

            Define(items[1]);
            var members = new List<Node>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var member in items[3..])
            {
                if (member == None)
                {
                    throw new FormatViolationException("'none' cannot be a group member");
                }

                if (!_names.TryGetValue(member, out var node))
                {
                    throw new FormatViolationException($"group member '{Text(member)}' is not defined on a preceding line");
                }

                if (!seen.Add(member))
                {
                    throw new FormatViolationException($"'{Text(member)}' is listed twice in one group");
                }

                members.Add(node);
            }

            var k = items[2] switch
            {
                "all" => members.Count,
                "any" => 1,
                var t when t.Length <= 4 && t.All(char.IsAsciiDigit) && t[0] != '0' => int.Parse(t, CultureInfo.InvariantCulture),
                var t => throw new FormatViolationException($"a group's threshold is all, any or a decimal k (1 <= k <= n), not '{Text(t)}'"),
            };
            if (k < 1 || k > members.Count)
            {
                throw new FormatViolationException($"a group's threshold must be 1 <= k <= {members.Count}, not {k}");
            }

            Count(_groups++, "groups");
            _names[items[1]] = new GroupNode(k, members);
        }

        private void Quorum(string[] items)
        {
            if (items.Length != 2)
            {
                throw new FormatViolationException("a quorum line is 'quorum <name>'");
            }

            if (_quorum is not null)
            {
                throw new FormatViolationException("a policy must have exactly one quorum line; this is the second");
            }

            if (!_names.ContainsKey(items[1]))
            {
                throw new FormatViolationException($"the quorum '{Text(items[1])}' is not a witness or group defined on a preceding line");
            }

            _quorum = items[1];
        }

        private void Define(string name)
        {
            if (_names.ContainsKey(name))
            {
                throw new FormatViolationException(name == None ? "'none' is predefined" : $"the name '{Text(name)}' is already defined");
            }
        }

        private VerifierKey Key(string vkey, string what)
        {
            var key = VerifierKey.Parse(Text(vkey));
            if (!_publicKeys.Add(Convert.ToBase64String(key.PublicKey)))
            {
                throw new FormatViolationException($"this {what} key wraps a public key already listed (duplicate)");
            }

            return key;
        }

        private static Uri Url(string url) =>
            Uri.TryCreate(Text(url), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : throw new FormatViolationException($"'{Text(url)}' is not an http(s) URL");

        private static void Count(int count, string what)
        {
            if (count >= MaxItems)
            {
                throw new FormatViolationException($"a policy lists at most {MaxItems} {what}");
            }
        }

        private static string Text(string latin1) => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(latin1));
    }

    private abstract class Node
    {
        public abstract bool Witnessed(HashSet<object> cosigned);
    }

    private sealed class NoneNode : Node
    {
        public override bool Witnessed(HashSet<object> cosigned) => true;
    }

    private sealed class WitnessNode(PolicyWitness witness) : Node
    {
        public override bool Witnessed(HashSet<object> cosigned) => cosigned.Contains(witness);
    }

    private sealed class GroupNode(int threshold, List<Node> members) : Node
    {
        public override bool Witnessed(HashSet<object> cosigned) => members.Count(m => m.Witnessed(cosigned)) >= threshold;
    }
}
