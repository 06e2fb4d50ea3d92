using System.Globalization;
using Sios.Ledger.Durable;
using Sios.Verify.Timestamps;

namespace Sios.Ledger.Publication;

/// <summary>
/// Where the log keeps the RFC 3161 tokens over its checkpoints: one file per checkpoint size, <c>SIZE.tst</c>, holding
/// the DER TimeStampToken (the CMS SignedData the TSA returned inside its TimeStampResp, without the status wrapper), as
/// served at <c>/log/timestamps/SIZE</c> and read by <c>sios verify receipt --timestamp</c>. Files are written once,
/// whole and owner-only (<see cref="DurableFile"/>), and never replaced.
/// </summary>
public sealed class TimestampFolder
{
    /// <summary>The extension of a token file.</summary>
    public const string Extension = ".tst";

    /// <summary>Uses <paramref name="path"/> (created on the first token).</summary>
    public TimestampFolder(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Whether a token for the checkpoint at <paramref name="size"/> is kept.</summary>
    public bool Contains(long size) => File.Exists(FileOf(size));

    /// <summary>Keeps <paramref name="token"/> for the checkpoint at <paramref name="size"/>, unless one is kept already (then false).</summary>
    public bool Save(long size, ReadOnlySpan<byte> token)
    {
        DurableFile.CreateDirectory(Path);
        return DurableFile.TryCreate(FileOf(size), token);
    }

    /// <summary>The token kept for the checkpoint at <paramref name="size"/>, or null when there is none (or it is larger than any token).</summary>
    public byte[]? Read(long size)
    {
        try
        {
            using var file = File.OpenRead(FileOf(size));
            if (file.Length > TimestampVerifier.MaxTokenBytes)
            {
                return null;
            }

            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private string FileOf(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return System.IO.Path.Combine(Path, size.ToString(CultureInfo.InvariantCulture) + Extension);
    }
}
