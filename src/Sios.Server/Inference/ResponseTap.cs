using System.Security.Cryptography;

namespace Sios.Server.Inference;

/// <summary>
/// Every byte of a streamed response as it is sent: hashed (after the nonce) for the response commitment, and, when
/// the vault keeps content, also copied, so that what is kept is exactly what the commitment covers.
/// </summary>
internal sealed class ResponseTap(IncrementalHash hash, bool keep) : IDisposable
{
    private readonly MemoryStream? _copy = keep ? new MemoryStream() : null;

    /// <summary>Adds bytes that are about to be sent.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        hash.AppendData(bytes);
        _copy?.Write(bytes);
    }

    /// <summary>The response commitment (base64) over everything appended.</summary>
    public string Commitment() => Convert.ToBase64String(hash.GetHashAndReset());

    /// <summary>Everything appended, or null when not keeping.</summary>
    public byte[]? Bytes => _copy?.ToArray();

    /// <summary>Releases the hash and the copy.</summary>
    public void Dispose()
    {
        hash.Dispose();
        _copy?.Dispose();
    }
}
