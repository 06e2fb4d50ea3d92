using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.Storage;
using Sios.Verify.Entries;

namespace Sios.Ledger.State;

/// <summary>
/// Vouches for the state files beside the log (API keys, brain pins) that anyone with write access to the data folder
/// could otherwise edit: each is written with an HMAC, under a key derived from the passphrase-protected master secret,
/// over its whole content including the log size it was written at (<c>as_of</c>). A hand-made or edited file fails the
/// MAC; an older copy put back passes it, but the log's own entries since its <c>as_of</c> (a <c>key.revoked</c>, a
/// <c>brain.removed</c>) are then not reflected in it, which each file's reader checks through <see cref="EntriesSince"/>.
/// </summary>
public sealed class StateFileAuthority
{
    /// <summary>The master-secret purpose whose derived key authenticates state files.</summary>
    public const string KeyPurpose = "state-file-mac/v1";

    /// <summary>How many entries one freshness check reads at a time.</summary>
    private const int Page = 4_096;

    private readonly byte[] _key;
    private readonly ILogReader _log;
    private readonly Lock _refusedLock = new();
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    /// <summary>An authority with the derived <paramref name="key"/> over the log <paramref name="log"/>.</summary>
    public StateFileAuthority(byte[] key, ILogReader log)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(log);
        if (key.Length != 32)
        {
            throw new ArgumentException("a state file key is 32 bytes", nameof(key));
        }

        _key = key;
        _log = log;
    }

    /// <summary>
    /// Told once per distinct refusal or correction (the file's kind, then why), so a running server can seal
    /// <c>state.refused</c>; it must be quick and not throw.
    /// </summary>
    public Action<string, string>? Refused { get; init; }

    /// <summary>The log's stored size now: the <c>as_of</c> a file written now records.</summary>
    public long LogSize() => _log.GetStoredSizeAsync().GetAwaiter().GetResult();

    /// <summary>The MAC (base64) of a file of <paramref name="kind"/> whose content without its MAC is <paramref name="body"/>.</summary>
    public string Mac(string kind, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        hmac.AppendData(Encoding.UTF8.GetBytes($"sios state file v1\n{kind}\n"));
        hmac.AppendData(body);
        return Convert.ToBase64String(hmac.GetHashAndReset());
    }

    /// <summary>Whether <paramref name="mac"/> is the MAC of <paramref name="body"/> (constant time).</summary>
    public bool Verify(string kind, ReadOnlySpan<byte> body, string? mac)
    {
        if (mac is null)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Mac(kind, body));
        var given = Encoding.ASCII.GetBytes(mac);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// The log's entries of the given types from index <paramref name="from"/> on, in order, as stored: what a file written
    /// at that size must reflect. Only each entry's type is read here; the caller parses the ones it gets.
    /// </summary>
    public IEnumerable<(long Index, byte[] Entry)> EntriesSince(long from, IReadOnlySet<string> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        for (var start = Math.Max(0, from); ; )
        {
            var page = _log.ReadEntriesAsync(start, Page).GetAwaiter().GetResult();
            foreach (var bytes in page)
            {
                var index = start++;

                // Only the type member is read: the reader stops at it, so a check over many inference entries stays cheap.
                if (LogEntry.TypeOf(bytes) is { } type && types.Contains(type))
                {
                    yield return (index, bytes);
                }
            }

            if (page.Count < Page)
            {
                yield break;
            }
        }
    }

    /// <summary>Reports a refusal to <see cref="Refused"/>, once per distinct message; returns the exception to throw.</summary>
    public StateFileException Refuse(string kind, string problem)
    {
        Report(kind, problem);
        return new StateFileException(kind, problem);
    }

    /// <summary>Tells <see cref="Refused"/> of a file that lags the log and was corrected from it, once per distinct message.</summary>
    public void Report(string kind, string problem)
    {
        bool first;
        lock (_refusedLock)
        {
            first = _refused.Add(kind + "\n" + problem);
        }

        if (first)
        {
            Refused?.Invoke(kind, problem);
        }
    }

    /// <summary>The <c>state.refused</c> entry: which file, and why it was refused or corrected from the log (at most 2,000 characters of it).</summary>
    public static byte[] RefusedEntry(string kind, string problem) =>
        new StateRefusedEntry(kind, problem.Length > 2_000 ? problem[..2_000] : problem).Write();

    /// <summary>The <c>state.adopted</c> entry sealed when the operator takes a file as it stands (<c>sios state adopt</c>).</summary>
    public static byte[] AdoptedEntry(string kind, int items, string sha256) => new StateAdoptedEntry(kind, items, sha256).Write();
}

/// <summary>A state file failed its authentication or lags behind the log: it is refused, never half-trusted.</summary>
public sealed class StateFileException : Exception
{
    /// <summary>Creates the exception for a file of <paramref name="kind"/>.</summary>
    public StateFileException(string kind, string message) : base(message) => Kind = kind;

    /// <summary>Creates the exception with no detail.</summary>
    public StateFileException() => Kind = "";

    /// <summary>Creates the exception with a message.</summary>
    public StateFileException(string message) : base(message) => Kind = "";

    /// <summary>Creates the exception with a message and cause.</summary>
    public StateFileException(string message, Exception inner) : base(message, inner) => Kind = "";

    /// <summary>The file's kind (<c>api-keys</c>, <c>brains</c>).</summary>
    public string Kind { get; }

    /// <summary>The entry type a refusal is sealed as.</summary>
    public const string RefusedEntryType = EntryTypes.StateRefused;
}
