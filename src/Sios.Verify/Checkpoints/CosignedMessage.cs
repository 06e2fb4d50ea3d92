using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Sios.Verify.Checkpoints;

/// <summary>The c2sp.org/tlog-cosignature signed messages: ML-DSA-44 <c>subtree/v1</c> and Ed25519 <c>cosignature/v1</c>.</summary>
public static class CosignedMessage
{
    private static readonly byte[] Label = "subtree/v1\n\0"u8.ToArray();

    /// <summary>
    /// Builds <c>cosigned_message</c>: label, cosigner name (u8 length), timestamp (u64 BE), log origin
    /// (u8 length), start, end (u64 BE) and the 32-byte subtree hash. A checkpoint is the subtree [0, size).
    /// </summary>
    public static byte[] Build(string cosignerName, ulong timestamp, string logOrigin, ulong start, ulong end, ReadOnlySpan<byte> hash)
    {
        var name = Encoding.UTF8.GetBytes(cosignerName);
        var origin = Encoding.UTF8.GetBytes(logOrigin);
        if (name.Length is < 1 or > 255 || origin.Length is < 1 or > 255)
        {
            throw new FormatViolationException("cosigner name and log origin must each be 1 to 255 bytes for an ML-DSA-44 cosignature");
        }

        if (hash.Length != 32)
        {
            throw new FormatViolationException("the cosigned hash must be 32 bytes");
        }

        if (timestamp > long.MaxValue || (start != 0 && timestamp != 0) || start > end)
        {
            throw new FormatViolationException("cosignature timestamp/start/end are out of range");
        }

        var message = new byte[Label.Length + 1 + name.Length + 8 + 1 + origin.Length + 8 + 8 + 32];
        var span = message.AsSpan();
        Label.CopyTo(span);
        span = span[Label.Length..];
        span[0] = (byte)name.Length;
        name.CopyTo(span[1..]);
        span = span[(1 + name.Length)..];
        BinaryPrimitives.WriteUInt64BigEndian(span, timestamp);
        span = span[8..];
        span[0] = (byte)origin.Length;
        origin.CopyTo(span[1..]);
        span = span[(1 + origin.Length)..];
        BinaryPrimitives.WriteUInt64BigEndian(span, start);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], end);
        hash.CopyTo(span[16..]);
        return message;
    }

    /// <summary>
    /// Builds the Ed25519 <c>cosignature/v1</c> message: the header line, <c>time T</c>, then the whole note text of
    /// the checkpoint (extension lines included, signature lines not).
    /// </summary>
    public static byte[] BuildV1(ulong timestamp, string checkpointText)
    {
        ArgumentNullException.ThrowIfNull(checkpointText);
        if (timestamp > long.MaxValue)
        {
            throw new FormatViolationException("a cosignature timestamp must not exceed 2^63-1");
        }

        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"cosignature/v1\ntime {timestamp}\n{checkpointText}"));
    }
}
