using System.Globalization;
using System.Text;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;

namespace Sios.Verify.Receipts;

/// <summary>A c2sp.org/tlog-proof@v1 text: extra data, entry index, inclusion proof and the signed checkpoint.</summary>
public sealed class TlogProof
{
    /// <summary>The first line of every proof.</summary>
    public const string Header = "c2sp.org/tlog-proof@v1";

    /// <summary>Largest proof text accepted: a 64 KiB entry in base64 plus a checkpoint with many signatures.</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Creates a proof from its parts.</summary>
    public TlogProof(byte[]? extra, long index, IReadOnlyList<byte[]> inclusionProof, byte[] checkpointNote)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        Extra = extra;
        Index = index;
        InclusionProof = inclusionProof;
        CheckpointNote = checkpointNote;
    }

    /// <summary>The opaque extra data (for SIOS: the entry bytes), or null when the line is absent.</summary>
    public byte[]? Extra { get; }

    /// <summary>Zero-based index of the entry.</summary>
    public long Index { get; }

    /// <summary>Inclusion proof hashes, from the leaf's sibling up to the root's child.</summary>
    public IReadOnlyList<byte[]> InclusionProof { get; }

    /// <summary>The signed checkpoint, verbatim.</summary>
    public byte[] CheckpointNote { get; }

    /// <summary>Serialises the proof exactly as the spec lays it out.</summary>
    public byte[] ToBytes()
    {
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        if (Extra is not null)
        {
            sb.Append("extra ").Append(Convert.ToBase64String(Extra)).Append('\n');
        }

        sb.Append("index ").Append(Index.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in InclusionProof)
        {
            sb.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        sb.Append('\n');
        var head = Encoding.UTF8.GetBytes(sb.ToString());
        var result = new byte[head.Length + CheckpointNote.Length];
        head.CopyTo(result, 0);
        CheckpointNote.CopyTo(result, head.Length);
        return result;
    }

    /// <summary>Parses a proof; the checkpoint is kept verbatim for signature verification.</summary>
    public static TlogProof Parse(ReadOnlySpan<byte> proof)
    {
        if (proof.Length > MaxBytes)
        {
            throw new FormatViolationException($"proof is {proof.Length} bytes, over the limit of {MaxBytes}");
        }

        // Header lines are ASCII; find the blank line that ends them without decoding the checkpoint.
        var end = proof.IndexOf("\n\n"u8);
        if (end < 0)
        {
            throw new FormatViolationException("proof has no blank line before its checkpoint");
        }

        var head = NoteText.DecodeNote(proof[..(end + 1)], "proof header");
        var lines = head[..^1].Split('\n');
        if (!string.Equals(lines[0], Header, StringComparison.Ordinal))
        {
            throw new FormatViolationException($"proof does not start with '{Header}'");
        }

        var at = 1;
        byte[]? extra = null;
        if (at < lines.Length && lines[at].StartsWith("extra ", StringComparison.Ordinal))
        {
            extra = NoteText.DecodeBase64(lines[at]["extra ".Length..], "proof extra data");
            at++;
        }

        if (at >= lines.Length || !lines[at].StartsWith("index ", StringComparison.Ordinal))
        {
            throw new FormatViolationException("proof has no 'index' line");
        }

        var index = Checkpoint.ParseDecimal(lines[at]["index ".Length..], "proof index");
        at++;
        var hashes = new List<byte[]>();
        for (; at < lines.Length; at++)
        {
            if (hashes.Count >= MerkleProofs.MaxProofLength)
            {
                throw new FormatViolationException($"inclusion proof has more than {MerkleProofs.MaxProofLength} hashes");
            }

            var hash = NoteText.DecodeBase64(lines[at], $"inclusion proof hash {hashes.Count}");
            if (hash.Length != Rfc6962.HashSize)
            {
                throw new FormatViolationException($"inclusion proof hash {hashes.Count} is {hash.Length} bytes, not {Rfc6962.HashSize}");
            }

            hashes.Add(hash);
        }

        return new TlogProof(extra, index, hashes, proof[(end + 2)..].ToArray());
    }
}
