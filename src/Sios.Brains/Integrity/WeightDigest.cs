using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Sios.Brains.Integrity;

/// <summary>
/// Streaming SHA-256 of weight files, written <c>sha256:&lt;64 lowercase hex&gt;</c> as in SPEC §2 (<c>weights</c>,
/// <c>adapter</c>). Reading the next block overlaps hashing the current one, so a cold file costs about the larger of
/// the disk time and the hash time rather than their sum.
/// </summary>
public static class WeightDigest
{
    /// <summary>The prefix of every digest string.</summary>
    public const string Prefix = "sha256:";

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>Bytes read per block: large enough that per-call overhead vanishes next to hashing.</summary>
    public const int BlockSize = 1 << 20;

    /// <summary>Hashes the file at <paramref name="path"/>, reporting the bytes hashed so far to <paramref name="progress"/>.</summary>
    public static async Task<string> ComputeAsync(string path, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        return await ComputeAsync(handle, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hashes everything readable from <paramref name="handle"/>, starting at offset 0.</summary>
    public static async Task<string> ComputeAsync(SafeFileHandle handle, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var current = ArrayPool<byte>.Shared.Rent(BlockSize);
        var next = ArrayPool<byte>.Shared.Rent(BlockSize);
        ValueTask<int> reading = default;
        var readInFlight = false;
        try
        {
            long offset = 0;
            reading = RandomAccess.ReadAsync(handle, current.AsMemory(0, BlockSize), offset, cancellationToken);
            readInFlight = true;
            while (true)
            {
                readInFlight = false;
                var read = await reading.ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                offset += read;
                reading = RandomAccess.ReadAsync(handle, next.AsMemory(0, BlockSize), offset, cancellationToken);
                readInFlight = true;
                sha.AppendData(current, 0, read);
                progress?.Report(offset);
                (current, next) = (next, current);
            }

            return Format(sha.GetHashAndReset());
        }
        finally
        {
            if (readInFlight)
            {
                // The read still owns a pooled buffer: let it finish before the buffer goes back to the pool.
                try
                {
                    await reading.ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException)
                {
                    // The failure that brought us here is the one the caller needs to see.
                }
            }

            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }

    /// <summary>
    /// Hashes the file and compares it with <paramref name="expected"/>; returns the digest when they agree and
    /// throws <see cref="WeightMismatchException"/> naming the file and both digests when they do not (or, with no
    /// actual digest, when the file is gone).
    /// <paramref name="role"/> says what the file is ("model", "adapter") in that message.
    /// </summary>
    public static async Task<string> VerifyAsync(string path, string expected, string role = "weight", IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!IsWellFormed(expected))
        {
            throw new ArgumentException($"'{expected}' is not a digest of the form {Prefix}<64 lowercase hex>", nameof(expected));
        }

        string actual;
        try
        {
            actual = await ComputeAsync(path, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WeightMismatchException(Path.GetFullPath(path), expected, null, role);
        }

        return string.Equals(actual, expected, StringComparison.Ordinal)
            ? actual
            : throw new WeightMismatchException(Path.GetFullPath(path), expected, actual, role);
    }

    /// <summary>Formats a raw 32-byte SHA-256 value as <c>sha256:&lt;hex&gt;</c>.</summary>
    public static string Format(ReadOnlySpan<byte> sha256)
    {
        if (sha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"a SHA-256 value is {SHA256.HashSizeInBytes} bytes, not {sha256.Length}", nameof(sha256));
        }

        return Prefix + Convert.ToHexStringLower(sha256);
    }

    /// <summary>True when <paramref name="digest"/> is exactly <c>sha256:</c> followed by 64 lowercase hex digits.</summary>
    public static bool IsWellFormed(string? digest) =>
        digest is { Length: 7 + 64 }
        && digest.StartsWith(Prefix, StringComparison.Ordinal)
        && !digest.AsSpan(Prefix.Length).ContainsAnyExcept(LowerHex);
}
