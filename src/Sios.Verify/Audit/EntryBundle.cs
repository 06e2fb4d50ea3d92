using System.Buffers.Binary;

namespace Sios.Verify.Audit;

/// <summary>tlog-tiles entry bundles: a sequence of big-endian uint16 length-prefixed entries.</summary>
public static class EntryBundle
{
    /// <summary>Concatenates entries into a bundle; each must be at most 65,535 bytes.</summary>
    public static byte[] Encode(IReadOnlyList<byte[]> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var total = 0;
        foreach (var e in entries)
        {
            if (e.Length > ushort.MaxValue)
            {
                throw new FormatViolationException($"an entry of {e.Length} bytes does not fit a bundle (max 65,535)");
            }

            total += 2 + e.Length;
        }

        var bundle = new byte[total];
        var at = 0;
        foreach (var e in entries)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bundle.AsSpan(at), (ushort)e.Length);
            e.CopyTo(bundle, at + 2);
            at += 2 + e.Length;
        }

        return bundle;
    }

    /// <summary>
    /// The first <paramref name="count"/> entries of a longer bundle (a full one standing in for a partial one, as
    /// tlog-tiles allows); a bundle too short for them comes back whole, for <see cref="Split"/> to refuse.
    /// </summary>
    public static byte[] Prefix(ReadOnlySpan<byte> bundle, int count)
    {
        var at = 0;
        for (var i = 0; i < count && at + 2 <= bundle.Length; i++)
        {
            at += 2 + BinaryPrimitives.ReadUInt16BigEndian(bundle[at..]);
        }

        return bundle[..Math.Min(at, bundle.Length)].ToArray();
    }

    /// <summary>Splits a bundle that must hold exactly <paramref name="count"/> entries; returns (offset, length) pairs.</summary>
    public static (int Offset, int Length)[] Split(ReadOnlySpan<byte> bundle, int count)
    {
        var result = new (int, int)[count];
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            if (bundle.Length - at < 2)
            {
                throw new MalformedBundleException(i, $"entry bundle ends after {i} of {count} entries");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(bundle[at..]);
            if (bundle.Length - at - 2 < length)
            {
                throw new MalformedBundleException(i, $"entry {i} of the bundle claims {length} bytes but the bundle ends first");
            }

            result[i] = (at + 2, length);
            at += 2 + length;
        }

        if (at != bundle.Length)
        {
            throw new MalformedBundleException(count, $"entry bundle has {bundle.Length - at} bytes after its {count} entries");
        }

        return result;
    }
}

/// <summary>An entry bundle could not be split; <see cref="Position"/> is the first entry that could not be read.</summary>
public sealed class MalformedBundleException : FormatViolationException
{
    /// <summary>Creates the exception for the entry at <paramref name="position"/> within the bundle.</summary>
    public MalformedBundleException(int position, string message) : base(message) => Position = position;

    /// <summary>Creates the exception with no detail.</summary>
    public MalformedBundleException() { }

    /// <summary>Creates the exception with a message.</summary>
    public MalformedBundleException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and cause.</summary>
    public MalformedBundleException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Position within the bundle of the first entry that could not be read.</summary>
    public int Position { get; }
}
