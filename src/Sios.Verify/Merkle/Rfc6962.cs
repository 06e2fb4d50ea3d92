using System.Buffers;
using System.Security.Cryptography;

namespace Sios.Verify.Merkle;

/// <summary>RFC 6962 §2.1 hashing with SHA-256: leaf = H(0x00 || d), node = H(0x01 || l || r).</summary>
public static class Rfc6962
{
    /// <summary>Length of every hash in the tree.</summary>
    public const int HashSize = 32;

    private const int StackLeafLimit = 1024;

    /// <summary>The root of the empty tree, SHA-256 of the empty string.</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    /// <summary>Writes the leaf hash of <paramref name="entry"/> into <paramref name="destination"/>.</summary>
    public static void LeafHash(ReadOnlySpan<byte> entry, Span<byte> destination)
    {
        // One-shot hashing of a prefixed copy avoids allocating a hash object per leaf; entries are at most
        // 64 KiB, so the copy costs far less than the hashing itself.
        if (entry.Length < StackLeafLimit)
        {
            Span<byte> buffer = stackalloc byte[entry.Length + 1];
            buffer[0] = 0x00;
            entry.CopyTo(buffer[1..]);
            SHA256.HashData(buffer, destination);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(entry.Length + 1);
        try
        {
            rented[0] = 0x00;
            entry.CopyTo(rented.AsSpan(1));
            SHA256.HashData(rented.AsSpan(0, entry.Length + 1), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Returns the leaf hash of <paramref name="entry"/>.</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var result = new byte[HashSize];
        LeafHash(entry, result);
        return result;
    }

    /// <summary>Writes the interior node hash of two children into <paramref name="destination"/>.</summary>
    public static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * HashSize];
        buffer[0] = 0x01;
        left[..HashSize].CopyTo(buffer[1..]);
        right[..HashSize].CopyTo(buffer[(1 + HashSize)..]);
        SHA256.HashData(buffer, destination);
    }

    /// <summary>Returns the interior node hash of two children.</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var result = new byte[HashSize];
        NodeHash(left, right, result);
        return result;
    }
}
