using System.Buffers.Binary;
using System.Text;

namespace Sios.Verify.Notes;

/// <summary>Limits a verifier applies before any cryptography, against denial of service.</summary>
/// <param name="MaxNoteBytes">Largest signed note accepted, in bytes.</param>
/// <param name="MaxSignatures">Most signature lines accepted (the spec requires accepting at least 16).</param>
public sealed record NoteLimits(int MaxNoteBytes = 1 << 20, int MaxSignatures = 64)
{
    /// <summary>The defaults: 1 MiB and 64 signatures.</summary>
    public static NoteLimits Default { get; } = new();
}

/// <summary>One signature line of a note: the key name, the key ID and the signature bytes after it.</summary>
/// <param name="KeyName">Key name as written on the line.</param>
/// <param name="KeyId">The 4-byte key ID, big-endian.</param>
/// <param name="Signature">The signature bytes following the key ID.</param>
public sealed record NoteSignature(string KeyName, uint KeyId, byte[] Signature);

/// <summary>A parsed c2sp.org/signed-note: the signed text (with its final newline) and its signature lines.</summary>
public sealed class SignedNote
{
    private const string Dash = "\u2014 ";

    private SignedNote(string text, byte[] textBytes, IReadOnlyList<NoteSignature> signatures)
    {
        Text = text;
        TextBytes = textBytes;
        Signatures = signatures;
    }

    /// <summary>The note text, including its final newline, excluding the blank separator line.</summary>
    public string Text { get; }

    /// <summary>The exact bytes that were signed.</summary>
    public byte[] TextBytes { get; }

    /// <summary>The signature lines in order.</summary>
    public IReadOnlyList<NoteSignature> Signatures { get; }

    /// <summary>Parses a signed note, enforcing the format and <paramref name="limits"/>.</summary>
    public static SignedNote Parse(ReadOnlySpan<byte> note, NoteLimits? limits = null)
    {
        limits ??= NoteLimits.Default;
        if (note.Length > limits.MaxNoteBytes)
        {
            throw new FormatViolationException($"note is {note.Length} bytes, over the limit of {limits.MaxNoteBytes}");
        }

        var all = NoteText.DecodeNote(note, "note");
        if (!all.EndsWith('\n'))
        {
            throw new FormatViolationException("note does not end with a newline");
        }

        // The text is separated from the signatures by the LAST blank line.
        var split = all.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            throw new FormatViolationException("note has no blank line separating text from signatures");
        }

        var text = all[..(split + 1)];
        var block = all[(split + 2)..];
        if (block.Length == 0)
        {
            throw new FormatViolationException("note has no signature lines after its last blank line");
        }

        var lines = block[..^1].Split('\n');
        if (lines.Length > limits.MaxSignatures)
        {
            throw new FormatViolationException($"note has {lines.Length} signature lines, over the limit of {limits.MaxSignatures}");
        }

        var signatures = new List<NoteSignature>(lines.Length);
        foreach (var line in lines)
        {
            signatures.Add(ParseSignatureLine(line));
        }

        return new SignedNote(text, Encoding.UTF8.GetBytes(text), signatures);
    }

    /// <summary>Formats a signature line: em dash, space, key name, space, base64(key ID || signature), newline.</summary>
    public static string FormatSignatureLine(string keyName, uint keyId, ReadOnlySpan<byte> signature)
    {
        var bytes = new byte[4 + signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, keyId);
        signature.CopyTo(bytes.AsSpan(4));
        return $"{Dash}{keyName} {Convert.ToBase64String(bytes)}\n";
    }

    private static NoteSignature ParseSignatureLine(string line)
    {
        if (!line.StartsWith(Dash, StringComparison.Ordinal))
        {
            throw new FormatViolationException("a signature line must start with an em dash and a space");
        }

        var rest = line[Dash.Length..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || rest.IndexOf(' ', space + 1) >= 0)
        {
            throw new FormatViolationException("a signature line must be '\u2014 <key name> <base64 signature>'");
        }

        var name = rest[..space];
        NoteText.RequireValidKeyName(name, "signature key name");
        var bytes = NoteText.DecodeBase64(rest[(space + 1)..], $"signature by {name}");
        if (bytes.Length < 5)
        {
            throw new FormatViolationException($"signature by {name} is too short to hold a key ID and a signature");
        }

        return new NoteSignature(name, BinaryPrimitives.ReadUInt32BigEndian(bytes), bytes[4..]);
    }
}
