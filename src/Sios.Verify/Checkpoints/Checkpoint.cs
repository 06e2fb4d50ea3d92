using System.Globalization;
using System.Text;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;

namespace Sios.Verify.Checkpoints;

/// <summary>A c2sp.org/tlog-checkpoint body: origin, tree size, root hash and optional extension lines.</summary>
public sealed class Checkpoint
{
    /// <summary>Creates a checkpoint body; SIOS writes none of the optional extension lines.</summary>
    public Checkpoint(string origin, long size, ReadOnlySpan<byte> root, IReadOnlyList<string>? extensions = null)
    {
        NoteText.RequireValidKeyName(origin, "origin");
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (root.Length != Rfc6962.HashSize)
        {
            throw new FormatViolationException($"a root hash is {Rfc6962.HashSize} bytes, not {root.Length}");
        }

        Origin = origin;
        Size = size;
        Root = root.ToArray();
        Extensions = extensions ?? [];
    }

    /// <summary>The log's origin line (also the name of its keys).</summary>
    public string Origin { get; }

    /// <summary>The number of entries the checkpoint commits to.</summary>
    public long Size { get; }

    /// <summary>The RFC 6962 root hash at <see cref="Size"/>.</summary>
    public byte[] Root { get; }

    /// <summary>Extension lines after the root, if any (opaque, not covered by ML-DSA-44 cosignatures).</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>The note text: origin, size and base64 root, each newline-terminated.</summary>
    public string ToNoteText()
    {
        var sb = new StringBuilder();
        sb.Append(Origin).Append('\n')
          .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
          .Append(Convert.ToBase64String(Root)).Append('\n');
        foreach (var ext in Extensions)
        {
            sb.Append(ext).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Parses checkpoint note text (as returned by <see cref="SignedNote.Text"/>).</summary>
    public static Checkpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.EndsWith('\n'))
        {
            throw new FormatViolationException("checkpoint text must end with a newline");
        }

        var lines = text[..^1].Split('\n');
        if (lines.Length < 3)
        {
            throw new FormatViolationException("a checkpoint has at least three lines: origin, tree size, root hash");
        }

        var size = ParseDecimal(lines[1], "checkpoint tree size");
        var root = NoteText.DecodeBase64(lines[2], "checkpoint root hash");
        if (root.Length != Rfc6962.HashSize)
        {
            throw new FormatViolationException($"checkpoint root hash is {root.Length} bytes, not {Rfc6962.HashSize}");
        }

        var extensions = lines[3..];
        if (extensions.Any(string.IsNullOrEmpty))
        {
            throw new FormatViolationException("checkpoint extension lines must not be empty");
        }

        return new Checkpoint(lines[0], size, root, extensions);
    }

    /// <summary>Parses an ASCII decimal with no sign and no leading zeroes, up to 2^63-1.</summary>
    public static long ParseDecimal(string s, string what)
    {
        if (s.Length == 0 || s.Length > 19 || (s.Length > 1 && s[0] == '0') || !s.All(char.IsAsciiDigit)
            || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            throw new FormatViolationException($"{what} '{Truncate(s)}' is not a decimal number without leading zeroes");
        }

        return value;
    }

    private static string Truncate(string s) => s.Length <= 24 ? s : s[..24] + "…";
}
