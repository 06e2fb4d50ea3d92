using System.Globalization;
using System.Text;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;

namespace Sios.Witness;

/// <summary>An answer to a witness request: status, content type and body.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="ContentType">The Content-Type of <paramref name="Body"/>.</param>
/// <param name="Body">The response body.</param>
public sealed record WitnessResponse(int Status, string ContentType, byte[] Body)
{
    /// <summary>The Content-Type of a 409's body (c2sp.org/tlog-witness).</summary>
    public const string TlogSize = "text/x.tlog.size";

    /// <summary>A plain-text answer: the body is <paramref name="message"/> and a newline.</summary>
    public static WitnessResponse Text(int status, string message) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"));
}

/// <summary>
/// <c>POST add-checkpoint</c> as c2sp.org/tlog-witness orders its checks: a malformed body is 400; an unknown origin
/// 404; no valid signature from the origin's keys, or a bad one from a known key, 403; an old size above the
/// checkpoint's 400; an old size other than the latest cosigned one's 409 (that size as <c>text/x.tlog.size</c>); a
/// size-0 checkpoint without the empty root, a proof where none belongs, a proof that fails, or a same-size
/// checkpoint with another root 422. Otherwise the checkpoint is committed and its cosignature lines answered, 200.
/// </summary>
public sealed class AddCheckpointHandler
{
    private readonly WitnessState _state;
    private readonly Cosigner _cosigner;
    private readonly NoteLimits _limits;
    private readonly Dictionary<string, NoteVerifier> _logs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _originsByHash = new(StringComparer.Ordinal);

    /// <summary>Answers for <paramref name="logs"/>, with state <paramref name="state"/> and keys <paramref name="cosigner"/>.</summary>
    public AddCheckpointHandler(WitnessState state, Cosigner cosigner, IEnumerable<WitnessLog> logs, NoteLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(logs);
        _state = state;
        _cosigner = cosigner;
        _limits = limits ?? NoteLimits.Default;
        foreach (var log in logs)
        {
            _logs.Add(log.Origin, new NoteVerifier(WitnessConfig.LogKeys(log), _limits));
            _originsByHash.Add(WitnessState.OriginHash(log.Origin), log.Origin);
        }
    }

    /// <summary>Handles one request body.</summary>
    public async Task<WitnessResponse> AddCheckpointAsync(ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        AddCheckpointRequest request;
        try
        {
            request = AddCheckpointRequest.Parse(body.Span, _limits);
        }
        catch (VerificationException e)
        {
            return WitnessResponse.Text(400, $"malformed add-checkpoint body: {e.Message}");
        }

        var checkpoint = request.Checkpoint;
        if (!_logs.TryGetValue(checkpoint.Origin, out var verifier))
        {
            return WitnessResponse.Text(404, $"unknown log origin '{checkpoint.Origin}'");
        }

        IReadOnlyList<VerifiedSignature> signatures;
        try
        {
            signatures = verifier.VerifyAny(request.Note).Signatures;
        }
        catch (VerificationException e)
        {
            return WitnessResponse.Text(403, $"the checkpoint is not validly signed by a key of {checkpoint.Origin}: {e.Message}");
        }

        if (request.OldSize > checkpoint.Size)
        {
            return WitnessResponse.Text(400, $"old size {request.OldSize} is above the checkpoint size {checkpoint.Size}");
        }

        return await _state.UpdateAsync(checkpoint.Origin, latest => Decide(request, signatures, latest), ct).ConfigureAwait(false);
    }

    /// <summary>The latest cosigned note of the log whose origin hashes to <paramref name="originHash"/>, or null.</summary>
    public byte[]? LatestCheckpoint(string originHash) =>
        _originsByHash.TryGetValue(originHash, out var origin) ? _state.Latest(origin)?.Note : null;

    private (CosignedCheckpoint? Next, WitnessResponse Result) Decide(AddCheckpointRequest request, IReadOnlyList<VerifiedSignature> signatures, CosignedCheckpoint? latest)
    {
        var held = latest?.Checkpoint.Size ?? 0;
        if (request.OldSize != held)
        {
            return (null, new WitnessResponse(409, WitnessResponse.TlogSize, Encoding.ASCII.GetBytes(held.ToString(CultureInfo.InvariantCulture) + "\n")));
        }

        if (Inconsistency(request, latest) is { } problem)
        {
            return (null, WitnessResponse.Text(422, problem));
        }

        var checkpoint = request.Checkpoint;
        var cosignatures = _cosigner.Cosign(checkpoint, request.Parsed.Text);
        var kept = new StringBuilder(request.Parsed.Text).Append('\n');
        foreach (var line in request.Parsed.Signatures)
        {
            // Only the log's lines the witness verified are kept with its own: monitors get what it vouched for.
            if (signatures.Any(s => s.Key.KeyId == line.KeyId && string.Equals(s.Key.Name, line.KeyName, StringComparison.Ordinal)))
            {
                kept.Append(SignedNote.FormatSignatureLine(line.KeyName, line.KeyId, line.Signature));
            }
        }

        var note = Encoding.UTF8.GetBytes(kept.Append(cosignatures).ToString());
        return (new CosignedCheckpoint(checkpoint, note), new WitnessResponse(200, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(cosignatures)));
    }

    private static string? Inconsistency(AddCheckpointRequest request, CosignedCheckpoint? latest)
    {
        var checkpoint = request.Checkpoint;
        if (checkpoint.Size == 0 && !checkpoint.Root.AsSpan().SequenceEqual(Rfc6962.EmptyRoot))
        {
            return "a checkpoint of size 0 must have the empty tree's root";
        }

        if (request.OldSize == 0)
        {
            return request.Proof.Count == 0 ? null : "old size 0 takes no consistency proof";
        }

        try
        {
            MerkleProofs.VerifyConsistency(request.OldSize, checkpoint.Size, request.Proof, latest!.Checkpoint.Root, checkpoint.Root);
            return null;
        }
        catch (ProofException e)
        {
            return $"the checkpoint is not consistent with the cosigned checkpoint of size {request.OldSize}: {e.Message}";
        }
    }
}
