using System.Text;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;

namespace Sios.Witness;

/// <summary>
/// An <c>add-checkpoint</c> request body (c2sp.org/tlog-witness): <c>old N</c>, up to 63 base64 consistency proof
/// hashes, one per line, an empty line, then the signed checkpoint note. Every line ends in a newline.
/// </summary>
/// <param name="OldSize">The size of the previous checkpoint the client believes the witness holds.</param>
/// <param name="Proof">The consistency proof from <paramref name="OldSize"/> to the checkpoint's size.</param>
/// <param name="Note">The checkpoint's signed note, exactly as sent.</param>
/// <param name="Checkpoint">The checkpoint body parsed from the note text.</param>
/// <param name="Parsed">The parsed note.</param>
public sealed record AddCheckpointRequest(long OldSize, IReadOnlyList<byte[]> Proof, byte[] Note, Checkpoint Checkpoint, SignedNote Parsed)
{
    /// <summary>Most consistency proof lines a client may send.</summary>
    public const int MaxProofLines = 63;

    /// <summary>Parses a request body; throws <see cref="FormatViolationException"/> (a 400) naming what is malformed.</summary>
    public static AddCheckpointRequest Parse(ReadOnlySpan<byte> body, NoteLimits? limits = null)
    {
        var rest = body;
        var old = NextLine(ref rest, "the old size line");
        if (!old.StartsWith("old ", StringComparison.Ordinal))
        {
            throw new FormatViolationException("the body must start with the line 'old N'");
        }

        var oldSize = Checkpoint.ParseDecimal(old[4..], "old size");
        var proof = new List<byte[]>();
        while (NextLine(ref rest, "a consistency proof line or the empty line") is { Length: > 0 } line)
        {
            if (proof.Count == MaxProofLines)
            {
                throw new FormatViolationException($"more than {MaxProofLines} consistency proof lines");
            }

            var hash = NoteText.DecodeBase64(line, "a consistency proof line");
            proof.Add(hash.Length == Rfc6962.HashSize ? hash : throw new FormatViolationException($"a consistency proof hash is {hash.Length} bytes, not {Rfc6962.HashSize}"));
        }

        var signed = SignedNote.Parse(rest, limits);
        return new AddCheckpointRequest(oldSize, proof, rest.ToArray(), Checkpoint.Parse(signed.Text), signed);
    }

    private static string NextLine(ref ReadOnlySpan<byte> rest, string what)
    {
        var newline = rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            throw new FormatViolationException($"the body ends before {what}");
        }

        var line = rest[..newline];
        rest = rest[(newline + 1)..];
        foreach (var b in line)
        {
            if (b is < 0x20 or > 0x7e)
            {
                throw new FormatViolationException($"{what} holds a byte (0x{b:x2}) that is not printable ASCII");
            }
        }

        return Encoding.ASCII.GetString(line);
    }
}
