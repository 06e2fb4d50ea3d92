using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sios.Brains.Registry;
using Sios.Verify.Entries;
using Sios.Server.Access;
using Sios.Ledger.State;

namespace Sios.Server.Vault;

/// <summary>The exact bytes one <c>inference</c> entry's commitments cover, as kept in the vault.</summary>
/// <param name="EntryId">The id of the <c>inference</c> entry (the nonces derive from it).</param>
/// <param name="KeptAt">When the content was kept; retention counts from here.</param>
/// <param name="Request">The exact request body.</param>
/// <param name="Response">The exact response body (for a stream: every byte before the <c>: sios</c> comment).</param>
public sealed record VaultContent(string EntryId, DateTimeOffset KeptAt, byte[] Request, byte[] Response);

/// <summary>What one purge did.</summary>
/// <param name="Count">How many kept answers were deleted.</param>
/// <param name="CutOff">Content kept before this time was expired.</param>
public sealed record VaultPurge(int Count, DateTimeOffset CutOff);

/// <summary>A vault file that is not what the vault wrote: altered, truncated, moved from another entry, or under another key.</summary>
public sealed class VaultException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VaultException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public VaultException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public VaultException() { }
}

/// <summary>
/// The content vault (issue 5): the exact request and response bytes behind an answer's sealed commitments, kept so
/// the operator can later disclose one answer to a third party. One record per answer (a file <c>&lt;entry id&gt;.vault</c>
/// of the data folder, or a row of a shared store's database, so any node can disclose what another kept; see
/// <see cref="IRecordShelf"/>), written atomically: a magic, the time it was kept, then AES-256-GCM of the two byte strings under the key the
/// master secret derives for <see cref="KeyPurpose"/>, with the magic, entry id and time as associated data, so a
/// file renamed to another entry, re-dated or altered in any byte is refused. Content older than the retention is
/// purged, and each purge that deletes anything is sealed (<c>vault.purged</c>: a count and the cut-off, never
/// content). A retention of 0 keeps nothing.
/// </summary>
public sealed class ContentVault : IDisposable
{
    /// <summary>The master secret purpose whose derived key encrypts the vault.</summary>
    public const string KeyPurpose = "vault/v1";

    /// <summary>Longest retention accepted, in days (a century).</summary>
    public const int MaxRetentionDays = 36_500;

    /// <summary>The entry type sealed by a purge.</summary>
    public const string PurgedEntryType = EntryTypes.VaultPurged;

    private const string Extension = ".vault";
    private const int TimeSize = 8;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Magic = "SIOSVLT1"u8.ToArray();
    private static readonly int HeaderSize = Magic.Length + TimeSize + NonceSize + TagSize;

    private readonly byte[] _key;
    private readonly IRecordShelf _answers;
    private readonly TimeProvider _clock;
    private bool _disposed;

    /// <summary>A vault in <paramref name="folder"/> (created on first write) under a copy of the 32-byte <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes, or the retention is outside 0 to <see cref="MaxRetentionDays"/>.</exception>
    public ContentVault(string folder, ReadOnlySpan<byte> key, int retentionDays, TimeProvider? clock = null)
        : this(FolderShelves(folder), key, retentionDays, clock)
    {
    }

    /// <summary>A vault keeping answers and stored-response claims on the given shelves (a shared store's rows); as the other constructor.</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes, or the retention is outside 0 to <see cref="MaxRetentionDays"/>.</exception>
    public ContentVault((IRecordShelf Answers, IRecordShelf Claims) shelves, ReadOnlySpan<byte> key, int retentionDays, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(shelves.Answers);
        ArgumentNullException.ThrowIfNull(shelves.Claims);
        if (key.Length != 32)
        {
            throw new ArgumentException($"the vault key is 32 bytes, not {key.Length}", nameof(key));
        }

        if (retentionDays is < 0 or > MaxRetentionDays)
        {
            throw new ArgumentException($"the vault retention is 0 to {MaxRetentionDays} days (0 keeps nothing), not {retentionDays}", nameof(retentionDays));
        }

        _answers = shelves.Answers;
        Claims = shelves.Claims;
        _key = key.ToArray();
        RetentionDays = retentionDays;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Where the stored responses' owner claims are kept (see <see cref="StoredResponses"/>).</summary>
    internal IRecordShelf Claims { get; }

    /// <summary>The file shelves of a vault folder: answers in it, claims in its <c>responses</c> folder.</summary>
    public static (IRecordShelf Answers, IRecordShelf Claims) FolderShelves(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        return (new FolderShelf(folder, Extension, Magic.Length + TimeSize, ReadKeptAt), new FolderShelf(Path.Combine(folder, "responses"), ".owner", 0, _ => null));
    }

    /// <summary>How many days content is kept; 0 keeps nothing.</summary>
    public int RetentionDays { get; }

    /// <summary>True when answers are kept at all.</summary>
    public bool IsKeeping => RetentionDays > 0;

    /// <summary>Content kept before this time is expired (with a retention of 0: everything kept so far).</summary>
    public DateTimeOffset CutOff => _clock.GetUtcNow().AddDays(-RetentionDays);

    /// <summary>
    /// Keeps the bytes behind entry <paramref name="entryId"/>'s commitments, replacing any earlier file for it.
    /// Returns false, keeping nothing, when the retention is 0.
    /// </summary>
    public bool Keep(string entryId, ReadOnlySpan<byte> request, ReadOnlySpan<byte> response)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var name = FileName(entryId);
        if (!IsKeeping)
        {
            return false;
        }

        var keptAt = _clock.GetUtcNow();
        var plain = new byte[4 + request.Length + response.Length];
        BinaryPrimitives.WriteUInt32BigEndian(plain, (uint)request.Length);
        request.CopyTo(plain.AsSpan(4));
        response.CopyTo(plain.AsSpan(4 + request.Length));
        var file = new byte[HeaderSize + plain.Length];
        Magic.CopyTo(file, 0);
        BinaryPrimitives.WriteInt64BigEndian(file.AsSpan(Magic.Length), keptAt.ToUnixTimeMilliseconds());
        var nonce = file.AsSpan(Magic.Length + TimeSize, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagSize))
        {
            aes.Encrypt(nonce, plain, file.AsSpan(HeaderSize), file.AsSpan(Magic.Length + TimeSize + NonceSize, TagSize), AssociatedData(name, file));
        }

        CryptographicOperations.ZeroMemory(plain);
        _answers.Put(name, keptAt.ToUnixTimeMilliseconds(), file);
        return true;
    }

    /// <summary>The content kept for <paramref name="entryId"/>, or null if none is (never kept, or purged).</summary>
    /// <exception cref="VaultException">The file exists but is not one this vault wrote for this entry under this key.</exception>
    public VaultContent? Read(string entryId)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var name = FileName(entryId);
        var path = _answers.Location(name);
        if (_answers.Read(name) is not { } file)
        {
            return null;
        }

        if (file.Length < HeaderSize + 4 || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new VaultException($"{path} is not a SIOS vault file (bad header or truncated)");
        }

        var plain = new byte[file.Length - HeaderSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(file.AsSpan(Magic.Length + TimeSize, NonceSize), file.AsSpan(HeaderSize), file.AsSpan(Magic.Length + TimeSize + NonceSize, TagSize), plain, AssociatedData(name, file));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new VaultException($"{path} does not decrypt: it was altered, belongs to another entry, or was written under another master secret", e);
        }

        var requestLength = BinaryPrimitives.ReadUInt32BigEndian(plain);
        if (requestLength > plain.Length - 4)
        {
            throw new VaultException($"{path} is inconsistent: its request length exceeds its content");
        }

        var keptAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(Magic.Length)));
        var request = plain.AsSpan(4, (int)requestLength).ToArray();
        var response = plain.AsSpan(4 + (int)requestLength).ToArray();
        CryptographicOperations.ZeroMemory(plain);
        return new VaultContent(name, keptAt, request, response);
    }

    /// <summary>The entry ids whose content was kept before <see cref="CutOff"/>, oldest first.</summary>
    public IReadOnlyList<string> Expired()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _answers.KeptBefore(CutOff.ToUnixTimeMilliseconds());
    }

    /// <summary>
    /// Deletes the content kept before <see cref="CutOff"/>. If there is any, first seals one <c>vault.purged</c>
    /// entry (count, cut-off, retention) through <paramref name="seal"/>, so the log never lacks a purge that
    /// happened; a crash between the seal and the deletions leaves files the next purge deletes and seals again.
    /// </summary>
    public async Task<VaultPurge> PurgeAsync(EntrySealer seal, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seal);
        var cutOff = CutOff;
        var expired = Expired();
        if (expired.Count == 0)
        {
            return new VaultPurge(0, cutOff);
        }

        var entry = new VaultPurgedEntry(expired.Count, cutOff, RetentionDays).Write(_clock);
        await seal(entry, cancellationToken).ConfigureAwait(false);
        foreach (var id in expired)
        {
            _answers.Delete(id);
        }

        return new VaultPurge(expired.Count, cutOff);
    }

    /// <summary>Zeroes the key; the vault refuses afterwards.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_key);
            _disposed = true;
        }
    }

    private static string FileName(string entryId)
    {
        ArgumentException.ThrowIfNullOrEmpty(entryId);
        // Only a canonical UUID names a file, so no entry id can reach outside the vault folder.
        if (!Guid.TryParseExact(entryId, "D", out var id))
        {
            throw new ArgumentException($"'{entryId}' is not an entry id (a UUID)", nameof(entryId));
        }

        return id.ToString("D", CultureInfo.InvariantCulture);
    }

    private static byte[] AssociatedData(string name, ReadOnlySpan<byte> file)
    {
        var id = Encoding.ASCII.GetBytes(name);
        var data = new byte[Magic.Length + id.Length + TimeSize];
        Magic.CopyTo(data, 0);
        id.CopyTo(data, Magic.Length);
        file.Slice(Magic.Length, TimeSize).CopyTo(data.AsSpan(Magic.Length + id.Length));
        return data;
    }

    // Not a file this vault wrote (its magic is missing): left for the operator to look at, never silently deleted.
    private static long? ReadKeptAt(ReadOnlySpan<byte> header) =>
        header[..Magic.Length].SequenceEqual(Magic) ? BinaryPrimitives.ReadInt64BigEndian(header[Magic.Length..]) : null;
}
