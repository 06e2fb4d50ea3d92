using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

using Sios.Ledger.State;

namespace Sios.Server.Access;

/// <summary>
/// The operator's API keys in one JSON document (<c>keys/api-keys.json</c>, or a row of a shared store's database; see
/// <see cref="IStateDocument"/>), shared safely by processes, nodes and threads. Only the SHA-256 of each secret is
/// stored. Changes run under the document's lock; <see cref="Authenticate"/> notices a change made by any process or
/// node at its next call, so a revocation takes effect everywhere at once.
/// </summary>
/// <remarks>
/// Creating a key is three steps, in this order: <see cref="Prepare(string, ApiKeyRole, IReadOnlyList{string}, out string, int?, int?)"/>
/// (validate, make the secret), seal <see cref="ApiKeyEntries.Created"/> in the log, then <see cref="Add"/>. So a key
/// that works was always sealed first; a crash in between leaves at worst a sealed key that never existed.
/// </remarks>
public sealed class ApiKeyStore
{
    /// <summary>The file's name in the data folder's <c>keys</c> folder.</summary>
    public const string FileName = "api-keys.json";

    /// <summary>Every secret starts with this, so leaked keys are easy to recognise and scan for.</summary>
    public const string SecretPrefix = "sios-";

    /// <summary>Length of a secret: prefix, 12-hex id, '-', 43 base64url characters (32 random bytes).</summary>
    public const int SecretLength = 61;

    private const int SecretRandomBytes = 32;

    // Compared against when a token names an unknown id, so failures take the same path whether or not the id exists.
    private static readonly byte[] UnknownIdHash = RandomNumberGenerator.GetBytes(SHA256.HashSizeInBytes);

    private readonly TimeProvider _clock;
    private readonly IStateDocument _document;
    private readonly Lock _reload = new();
    private volatile Snapshot? _snapshot;
    private readonly Lock _checkedLock = new();
    private (byte[] Digest, List<ApiKeyRecord> Trusted)? _checked;

    /// <summary>The store kept in the file <paramref name="path"/>; a file that does not exist yet holds no keys.</summary>
    public ApiKeyStore(string path, TimeProvider? clock = null)
        : this(new FileStateDocument(path), clock)
    {
    }

    /// <summary>The store kept in <paramref name="document"/>; a document never written holds no keys.</summary>
    public ApiKeyStore(IStateDocument document, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        _document = document;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Where the keys are kept, as messages name it: the file's full path, or the database row.</summary>
    public string Location => _document.Location;

    /// <summary>
    /// What authenticates the file: with it, the file is written with a MAC and its <c>as_of</c>, and a file that fails
    /// either check is refused (<see cref="StateFileException"/>) wherever it is read. Without it (read-only listing by
    /// someone without the passphrase, tests) the file is read as it stands and written without a MAC.
    /// </summary>
    public StateFileAuthority? Authority { get; init; }

    /// <summary>Whether reads are checked: false means the keys listed are the file's word alone.</summary>
    public bool IsAuthenticated => Authority is not null;

    /// <summary>Whether the keys have ever been written (a folder with no keys yet has nothing to adopt or refresh).</summary>
    public bool Exists => _document.Read().Bytes is not null;

    /// <summary>A new key id and its secret: <c>sios-</c> + id + <c>-</c> + base64url of 32 random bytes, no padding.</summary>
    public static (string Id, string Secret) NewSecret()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(ApiKeyFile.IdLength / 2));
        return (id, SecretFor(id));
    }

    /// <summary>True when <paramref name="name"/> is a valid key name: <c>[a-z0-9][a-z0-9._-]{0,63}</c>.</summary>
    public static bool IsValidName(string? name) => ApiKeyFile.IsValidName(name);

    /// <summary>
    /// The token of an HTTP <c>Authorization</c> header using the Bearer scheme (RFC 6750, scheme case-insensitive),
    /// or null when the header is absent or uses another scheme.
    /// </summary>
    public static string? BearerToken(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = authorization[scheme.Length..].Trim(' ');
        return token.Length == 0 ? null : token;
    }

    /// <summary>
    /// Validates a new key and builds its record without storing it, creating the id and secret when not given (the
    /// secret of a given <paramref name="id"/> is created for it; a given <paramref name="secret"/> must carry its id).
    /// A secret made here is not returned: use the overload with <c>out string secret</c> to learn it. Throws
    /// <see cref="ApiKeyException"/> for an invalid name, role, scope or limit, or a name a live key already has.
    /// </summary>
    public ApiKeyRecord Prepare(string name, ApiKeyRole role, IReadOnlyList<string> brains, int? rpm = null, int? tpm = null, string? id = null, string? secret = null) =>
        Prepare(name, role, brains, rpm, tpm, id, secret, out _);

    /// <summary>
    /// As the other <c>Prepare</c>, always with a new id and secret, which is returned in <paramref name="secret"/>: the
    /// only moment it exists outside the client, so show it once and never store it.
    /// </summary>
    public ApiKeyRecord Prepare(string name, ApiKeyRole role, IReadOnlyList<string> brains, out string secret, int? rpm = null, int? tpm = null) =>
        Prepare(name, role, brains, rpm, tpm, null, null, out secret);

    /// <summary>
    /// Stores a record made by <c>Prepare</c> (after its <c>key.created</c> is sealed), replacing the file atomically
    /// with mode 0600. Throws <see cref="ApiKeyException"/> when a live key already has the name, or the id is taken.
    /// </summary>
    public void Add(ApiKeyRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var problems = ApiKeyFile.Problems(record);
        if (problems.Count > 0 || record.IsRevoked)
        {
            throw new ApiKeyException($"not a new key record: {(record.IsRevoked ? "it is revoked" : string.Join("; ", problems))}");
        }

        Change(keys =>
        {
            RefuseTakenName(keys, record.Name);
            if (keys.Any(k => string.Equals(k.Id, record.Id, StringComparison.Ordinal)))
            {
                throw new ApiKeyException($"a key with id {record.Id} already exists", ApiKeyError.Conflict);
            }

            keys.Add(record);
            return record;
        });
    }

    /// <summary>
    /// Marks the live key named <paramref name="name"/> revoked, effective for every process at its next
    /// <see cref="Authenticate"/>, and returns the revoked record. With <paramref name="id"/>, refuses unless the live
    /// key of that name still has that id (so the key revoked is the one whose <c>key.revoked</c> was sealed). Throws
    /// <see cref="ApiKeyException"/> (<see cref="ApiKeyError.NotFound"/>) when there is no such live key.
    /// </summary>
    public ApiKeyRecord Revoke(string name, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Change(RevokeIn, revoking: id);

        ApiKeyRecord RevokeIn(List<ApiKeyRecord> keys)
        {
            var index = keys.FindIndex(k => !k.IsRevoked && string.Equals(k.Name, name, StringComparison.Ordinal)
                && (id is null || string.Equals(k.Id, id, StringComparison.Ordinal)));
            if (index < 0)
            {
                throw new ApiKeyException(
                    id is null ? $"no live API key is named '{name}'" : $"no live API key named '{name}' has id {id}",
                    ApiKeyError.NotFound);
            }

            var now = _clock.GetUtcNow();
            var revoked = keys[index] with { Revoked = now < keys[index].Created ? keys[index].Created : now };
            keys[index] = revoked;
            return revoked;
        }
    }

    /// <summary>Every key, live and revoked, in the order they were added.</summary>
    public IReadOnlyList<ApiKeyRecord> List() => Current().Keys;

    /// <summary>The live key named <paramref name="name"/>, or null.</summary>
    public ApiKeyRecord? Find(string name) =>
        Current().Keys.FirstOrDefault(k => !k.IsRevoked && string.Equals(k.Name, name, StringComparison.Ordinal));

    /// <summary>
    /// The principal of <paramref name="bearerToken"/> (the token alone, without <c>Bearer </c>; see
    /// <see cref="BearerToken"/>), or null when it is missing, malformed, unknown or revoked. The hash comparison is
    /// constant-time, and made against a random hash when the id is unknown, so timing reveals neither the secret nor which
    /// ids exist. Picks up changes by any process (a stat per call). A key file that cannot be read throws
    /// (<see cref="IOException"/>, <see cref="Sios.Verify.FormatViolationException"/>): failing closed, never open.
    /// </summary>
    public ApiPrincipal? Authenticate(string? bearerToken)
    {
        if (!TryParseSecret(bearerToken, out var id))
        {
            return null;
        }

        var snapshot = Current();
        var found = snapshot.ById.TryGetValue(id, out var entry);
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(bearerToken!), presented);
        var matches = CryptographicOperations.FixedTimeEquals(presented, found ? entry.Hash : UnknownIdHash);
        return found && matches && !entry.Key.IsRevoked ? entry.Key.ToPrincipal() : null;
    }

    private ApiKeyRecord Prepare(string name, ApiKeyRole role, IReadOnlyList<string> brains, int? rpm, int? tpm, string? id, string? secret, out string madeSecret)
    {
        if (!IsValidName(name))
        {
            throw new ApiKeyException($"'{name}' is not a valid key name: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
        }

        if (!Enum.IsDefined(role))
        {
            throw new ApiKeyException($"{(int)role} is not a role; use one of {string.Join(", ", ApiKeyRoleNames.All)}");
        }

        if (ApiKeyFile.BrainProblems(brains).FirstOrDefault() is { } scope)
        {
            throw new ApiKeyException(scope);
        }

        if (rpm is <= 0 || tpm is <= 0)
        {
            throw new ApiKeyException("--rpm and --tpm must be at least 1 (leave them out for no limit)");
        }

        (string Id, string Secret) made = (id, secret) switch
        {
            (null, null) => NewSecret(),
            ({ } given, null) when ApiKeyFile.IsLowerHex(given, ApiKeyFile.IdLength) => (given, SecretFor(given)),
            (_, null) => throw new ApiKeyException($"the id '{id}' is not {ApiKeyFile.IdLength} lower-case hex characters"),
            (_, { } given) when TryParseSecret(given, out var embedded) && (id is null || id == embedded) => (embedded, given),
            _ => throw new ApiKeyException("the secret is not of the form sios-<id>-<43 base64url characters> for its id"),
        };

        RefuseTakenName(Current().Keys, name);
        madeSecret = made.Secret;
        return new ApiKeyRecord
        {
            Id = made.Id,
            Name = name,
            Role = role,
            Brains = [.. brains],
            Created = _clock.GetUtcNow(),
            SecretSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(made.Secret))),
            Rpm = rpm,
            Tpm = tpm,
        };
    }

    private static string SecretFor(string id) =>
        SecretPrefix + id + "-" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretRandomBytes));

    /// <summary>Checks the shape only (prefix, hex id, base64url tail); whether it is a key is the hash's business.</summary>
    private static bool TryParseSecret(string? token, out string id)
    {
        id = "";
        if (token is null || token.Length != SecretLength || !token.StartsWith(SecretPrefix, StringComparison.Ordinal)
            || token[SecretPrefix.Length + ApiKeyFile.IdLength] != '-')
        {
            return false;
        }

        var candidate = token.Substring(SecretPrefix.Length, ApiKeyFile.IdLength);
        foreach (var c in token.AsSpan(SecretPrefix.Length + ApiKeyFile.IdLength + 1))
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        if (!ApiKeyFile.IsLowerHex(candidate, ApiKeyFile.IdLength))
        {
            return false;
        }

        id = candidate;
        return true;
    }

    private static void RefuseTakenName(IEnumerable<ApiKeyRecord> keys, string name)
    {
        if (keys.Any(k => !k.IsRevoked && string.Equals(k.Name, name, StringComparison.Ordinal)))
        {
            throw new ApiKeyException($"a live API key is already named '{name}'; revoke it first or choose another name", ApiKeyError.Conflict);
        }
    }

    /// <summary>
    /// Rewrites the (checked) keys with the log's current size as their <c>as_of</c>, so the next check of them reads only
    /// the entries sealed after now. A server does this at start.
    /// </summary>
    public void Refresh()
    {
        if (Exists)
        {
            Change<object?>(_ => null);
        }
    }

    /// <summary>
    /// Takes the keys as they stand, unchecked (a format-1 file from before authenticated state files, or one the
    /// operator has inspected), and rewrites them authenticated. Returns the keys adopted; the caller seals that it did first.
    /// </summary>
    public IReadOnlyList<ApiKeyRecord> Adopt()
    {
        var authority = Authority ?? throw new InvalidOperationException("adopting the key file needs its authority");
        return Wait(_document.ChangeAsync((bytes, ct) =>
        {
            var keys = bytes is null ? [] : ApiKeyFile.Parse(bytes, Location, out _);
            var write = ApiKeyFile.Serialize(keys, authority.LogSize(), body => authority.Mac(ApiKeyFile.Kind, body));
            _snapshot = null;
            return Task.FromResult(new StateChange<IReadOnlyList<ApiKeyRecord>>(write, keys));
        }));
    }

    /// <summary>Read, change and replace the keys under the document's lock, then drop the cached snapshot.</summary>
    /// <remarks>Key changes are rare operator actions, so waiting on the lock synchronously here is acceptable.</remarks>
    private T Change<T>(Func<List<ApiKeyRecord>, T> change, string? revoking = null) =>
        Wait(_document.ChangeAsync((bytes, _) =>
        {
            var keys = Load(new StateDocument(bytes, default), revoking).Keys.ToList();
            var result = change(keys);
            var authority = Authority;
            var write = authority is null
                ? ApiKeyFile.Serialize(keys)
                : ApiKeyFile.Serialize(keys, authority.LogSize(), body => authority.Mac(ApiKeyFile.Kind, body));
            _snapshot = null;
            return Task.FromResult(new StateChange<T>(write, result));
        }));

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    private Snapshot Current()
    {
        var snapshot = _snapshot;
        if (snapshot is not null && _document.IsCurrent(snapshot.Stamp))
        {
            return snapshot;
        }

        lock (_reload)
        {
            snapshot = _snapshot;
            if (snapshot is not null && _document.IsCurrent(snapshot.Stamp))
            {
                return snapshot;
            }

            snapshot = Load(_document.Read());
            _snapshot = snapshot;
            return snapshot;
        }
    }

    /// <summary>Parses the keys and, with an <see cref="Authority"/>, checks their MAC and that they reflect the log.</summary>
    private Snapshot Load(StateDocument document, string? revoking = null)
    {
        if (document.Bytes is not { } bytes)
        {
            return new Snapshot(document.Stamp, []);
        }

        var keys = ApiKeyFile.Parse(bytes, Location, out var stored);
        if (Authority is not { } authority)
        {
            return new Snapshot(document.Stamp, keys);
        }

        // Keys just written are re-read on every request until their stamp settles; the check (MAC, then the log since
        // as_of) runs once per distinct content. A write always checks afresh, as it may be storing a revocation.
        var digest = SHA256.HashData(bytes);
        lock (_checkedLock)
        {
            if (revoking is null && _checked is { } seen && seen.Digest.AsSpan().SequenceEqual(digest))
            {
                return new Snapshot(document.Stamp, [.. seen.Trusted]);
            }
        }

        var trusted = KeyFileChecks.Check(authority, stored, keys, Location, revoking);
        if (revoking is null)
        {
            lock (_checkedLock)
            {
                _checked = (digest, trusted);
            }
        }

        return new Snapshot(document.Stamp, [.. trusted]);
    }

    /// <summary>The keys as read at one moment, indexed by id with each secret's hash as bytes.</summary>
    private sealed class Snapshot(StateStamp stamp, List<ApiKeyRecord> keys)
    {
        public StateStamp Stamp { get; } = stamp;

        public IReadOnlyList<ApiKeyRecord> Keys { get; } = keys.AsReadOnly();

        public Dictionary<string, (ApiKeyRecord Key, byte[] Hash)> ById { get; } =
            keys.ToDictionary(k => k.Id, k => (k, Convert.FromHexString(k.SecretSha256)), StringComparer.Ordinal);
    }
}
