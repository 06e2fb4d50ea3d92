using Sios.Verify.Commitments;
using Sios.Verify.Entries;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Verify.Disclosure;

/// <summary>
/// The content an operator disclosed for one answer: the exact request and response bytes and their nonces, and
/// optionally the entry bytes it claims they belong to. On disk, a folder as written by <c>sios log disclose</c>.
/// </summary>
/// <param name="Request">The exact request body.</param>
/// <param name="Response">The exact response body (for a stream: every byte before the <c>: sios</c> comment).</param>
/// <param name="RequestNonce">The 32-byte request nonce.</param>
/// <param name="ResponseNonce">The 32-byte response nonce.</param>
/// <param name="Entry">The entry bytes as disclosed (entry.json), or null when absent.</param>
public sealed record DisclosedContent(byte[] Request, byte[] Response, byte[] RequestNonce, byte[] ResponseNonce, byte[]? Entry)
{
    /// <summary>The request body's file name.</summary>
    public const string RequestFile = "request.bin";

    /// <summary>The response body's file name.</summary>
    public const string ResponseFile = "response.bin";

    /// <summary>The request nonce's file name (base64 text).</summary>
    public const string RequestNonceFile = "request.nonce";

    /// <summary>The response nonce's file name (base64 text).</summary>
    public const string ResponseNonceFile = "response.nonce";

    /// <summary>The entry bytes' file name.</summary>
    public const string EntryFile = "entry.json";

    /// <summary>The receipt's file name.</summary>
    public const string ReceiptFile = "receipt.tlog-proof";

    /// <summary>Largest request or response file read (far above any body the gateway accepts or sends).</summary>
    public const long MaxContentBytes = 256L << 20;

    /// <summary>Reads a disclosure folder; throws <see cref="FormatViolationException"/> naming a missing or malformed file.</summary>
    public static DisclosedContent ReadFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new FormatViolationException($"{folder}: no such folder");
        }

        var entryPath = Path.Combine(folder, EntryFile);
        return new DisclosedContent(
            ReadBytes(folder, RequestFile),
            ReadBytes(folder, ResponseFile),
            ReadNonce(folder, RequestNonceFile),
            ReadNonce(folder, ResponseNonceFile),
            File.Exists(entryPath) ? ReadBytes(folder, EntryFile) : null);
    }

    private static byte[] ReadBytes(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (!File.Exists(path))
        {
            throw new FormatViolationException($"the disclosure has no {name}");
        }

        if (new FileInfo(path).Length > MaxContentBytes)
        {
            throw new FormatViolationException($"{name} is larger than any disclosed body ({MaxContentBytes} bytes)");
        }

        return File.ReadAllBytes(path);
    }

    private static byte[] ReadNonce(string folder, string name)
    {
        var path = Path.Combine(folder, name);
        if (!File.Exists(path))
        {
            throw new FormatViolationException($"the disclosure has no {name}");
        }

        if (new FileInfo(path).Length > 1024)
        {
            throw new FormatViolationException($"{name} is not a nonce: too long");
        }

        byte[] nonce;
        try
        {
            nonce = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException e)
        {
            throw new FormatViolationException($"{name} is not base64", e);
        }

        if (nonce.Length != Commitment.NonceSize)
        {
            throw new FormatViolationException($"{name} holds {nonce.Length} bytes; a nonce is {Commitment.NonceSize}");
        }

        return nonce;
    }
}

/// <summary>What a verified disclosure proves: these bytes are what the log sealed for this answer.</summary>
/// <param name="Receipt">The verified receipt of the <c>inference</c> entry.</param>
/// <param name="EntryId">The entry's id.</param>
/// <param name="Brain">The brain that answered, when the entry names one.</param>
/// <param name="Stream">Whether the answer was streamed.</param>
public sealed record VerifiedDisclosure(VerifiedReceipt Receipt, string EntryId, string? Brain, bool Stream);

/// <summary>
/// Verifies a disclosure offline (issue 5): the receipt verifies under the log's vkeys, its entry is an
/// <c>inference</c> entry, and both its commitments (SPEC §2) match the disclosed bytes under the disclosed nonces.
/// Needs no secret, no data folder and no server.
/// </summary>
public sealed class DisclosureVerifier
{
    private readonly ReceiptVerifier _receipts;

    /// <summary>Creates a verifier for the log whose keys are <paramref name="logKeys"/>.</summary>
    public DisclosureVerifier(IReadOnlyList<VerifierKey> logKeys) : this(new Trust.LogTrust(logKeys)) { }

    /// <summary>Creates a verifier for the log <paramref name="trust"/> describes (keys, rotations, witness quorum).</summary>
    public DisclosureVerifier(Trust.LogTrust trust) => _receipts = new ReceiptVerifier(trust);

    /// <summary>Verifies <paramref name="content"/> against <paramref name="receipt"/>; throws <see cref="VerificationException"/> naming what failed.</summary>
    public VerifiedDisclosure Verify(ReadOnlySpan<byte> receipt, DisclosedContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        VerifiedReceipt verified;
        try
        {
            verified = _receipts.Verify(receipt);
        }
        catch (VerificationException e)
        {
            throw new VerificationException($"the receipt does not verify: {e.Message}", e);
        }

        if (content.Entry is not null && !content.Entry.AsSpan().SequenceEqual(verified.Entry))
        {
            throw new VerificationException($"{DisclosedContent.EntryFile} is not the entry the receipt proves (entry {verified.Index})");
        }

        // An entry of another type is named as such; only then is it read as an inference entry, strictly.
        if (LogEntry.TryParse(verified.Entry, out var header) && header.Type != EntryTypes.Inference)
        {
            throw new VerificationException($"entry {verified.Index} is a '{header.Type}' entry, not an 'inference' entry: it commits to no content");
        }

        LoggedEntry<InferenceEntry> inference;
        try
        {
            inference = InferenceEntry.Read(verified.Entry);
        }
        catch (FormatViolationException e)
        {
            throw new FormatViolationException($"entry {verified.Index} is not a well-formed inference entry: {e.Message}", e);
        }

        var request = inference.Body.Request
            ?? throw new VerificationException($"entry {verified.Index} has no request commitment (the request was refused before its body was read)");
        var response = inference.Body.Response;
        if (!Commitment.Matches(request, content.RequestNonce, content.Request))
        {
            throw new VerificationException($"{DisclosedContent.RequestFile} does not match the request commitment of entry {verified.Index} under {DisclosedContent.RequestNonceFile}");
        }

        if (!Commitment.Matches(response, content.ResponseNonce, content.Response))
        {
            throw new VerificationException($"{DisclosedContent.ResponseFile} does not match the response commitment of entry {verified.Index} under {DisclosedContent.ResponseNonceFile}");
        }

        return new VerifiedDisclosure(verified, inference.Header.Id, inference.Body.Brain?.Name, inference.Body.Stream);
    }
}
