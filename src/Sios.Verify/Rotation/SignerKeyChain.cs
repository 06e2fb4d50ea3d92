using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Receipts;

namespace Sios.Verify.Rotation;

/// <summary>The keys that sign a log's checkpoints from tree size <paramref name="FromSize"/> until the next rotation.</summary>
/// <param name="FromSize">The first tree size these keys sign (0 for the original keys; a rotation's checkpoint size after).</param>
/// <param name="Keys">The ML-DSA-65 vkey, then the ML-DSA-44 cosignature vkey.</param>
public sealed record KeyEpoch(long FromSize, IReadOnlyList<VerifierKey> Keys);

/// <summary>An Ed25519 (0x01) log key that signs beside the epoch keys from <paramref name="FromSize"/> on, whatever rotations follow.</summary>
/// <param name="FromSize">The first tree size the key signs (0 for a key the verifier was given; else the size of the checkpoint sealing <c>signer.added</c>).</param>
/// <param name="Key">The Ed25519 vkey.</param>
public sealed record AddedSigner(long FromSize, VerifierKey Key);

/// <summary>A rotation statement that was accepted: the <c>signer.rotated</c> entry and the checkpoint that seals it.</summary>
/// <param name="Index">The entry's index in the log.</param>
/// <param name="Entry">The parsed entry.</param>
/// <param name="Checkpoint">The checkpoint signed by both the old and the new keys.</param>
/// <param name="Receipt">The statement exactly as given: the entry's <c>.tlog-proof</c> receipt.</param>
public sealed record RotationStatement(long Index, SignerRotatedEntry Entry, VerifiedCheckpoint Checkpoint, byte[] Receipt);

/// <summary>
/// The chain of a log's signing keys, from the original vkeys through each accepted rotation statement (SPEC §3: a
/// <c>signer.rotated</c> entry sealed under a checkpoint signed by both old and new keys). A checkpoint of size N must be
/// signed by the keys of the last epoch starting at or below N, so a retired key cannot vouch for a later tree.
/// An Ed25519 log key (SPEC §6) is no part of an epoch: rotations hand on the ML-DSA pair only, and the Ed25519 key,
/// once given or added (<c>signer.added</c>), must sign every later checkpoint beside whichever pair is current.
/// </summary>
public sealed class SignerKeyChain : ICheckpointTrust
{
    private readonly List<KeyEpoch> _epochs = [];
    private readonly List<RotationStatement> _statements = [];
    private readonly List<AddedSigner> _added = [];
    private readonly NoteLimits? _limits;

    /// <summary>
    /// Starts a chain at the log's original vkeys (all named by the origin). Ed25519 (0x01) keys among them are required
    /// on every checkpoint from size 0, beside the epoch keys, and are not handed on by rotations.
    /// </summary>
    public SignerKeyChain(IReadOnlyList<VerifierKey> originalKeys, NoteLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(originalKeys);
        if (originalKeys.Count == 0)
        {
            throw new ArgumentException("at least one original vkey is required", nameof(originalKeys));
        }

        Origin = originalKeys[0].Name;
        if (originalKeys.Any(k => !string.Equals(k.Name, Origin, StringComparison.Ordinal)))
        {
            throw new ArgumentException("all original vkeys must name the same log (their key name is the origin)", nameof(originalKeys));
        }

        _limits = limits;
        _epochs.Add(new KeyEpoch(0, [.. originalKeys.Where(k => k.Kind != NoteKeyKind.Ed25519)]));
        _added.AddRange(originalKeys.Where(k => k.Kind == NoteKeyKind.Ed25519).Select(k => new AddedSigner(0, k)));
    }

    /// <summary>The log's origin (the key name of every vkey).</summary>
    public string Origin { get; }

    /// <summary>The epoch vkeys the chain started from (the ML-DSA pair; no Ed25519 key).</summary>
    public IReadOnlyList<VerifierKey> OriginalKeys => _epochs[0].Keys;

    /// <summary>The vkeys valid after the last accepted rotation.</summary>
    public IReadOnlyList<VerifierKey> CurrentKeys => _epochs[^1].Keys;

    /// <summary>The Ed25519 log keys given or added, oldest first.</summary>
    public IReadOnlyList<AddedSigner> AddedSigners => _added;

    /// <summary>Every key that signs the newest checkpoints: <see cref="CurrentKeys"/>, then each added key.</summary>
    public IReadOnlyList<VerifierKey> SigningKeys => [.. CurrentKeys, .. _added.Select(a => a.Key)];

    /// <summary>Every epoch, oldest first.</summary>
    public IReadOnlyList<KeyEpoch> Epochs => _epochs;

    /// <summary>The accepted rotation statements, oldest first.</summary>
    public IReadOnlyList<RotationStatement> Statements => _statements;

    /// <summary>
    /// Accepts a rotation statement: the <c>.tlog-proof</c> receipt of a <c>signer.rotated</c> entry. Its checkpoint
    /// must be signed by every current key and every key the entry names as new, and by no other key of this log; the
    /// entry's <c>old</c> must be exactly the current keys; and it must come after the last accepted rotation. Throws
    /// <see cref="VerificationException"/> naming the failure and leaves the chain unchanged.
    /// </summary>
    public RotationStatement Follow(ReadOnlySpan<byte> statementReceipt)
    {
        var proof = TlogProof.Parse(statementReceipt);
        if (proof.Extra is null)
        {
            throw new VerificationException("the rotation statement has no 'extra' line: it must carry the signer.rotated entry");
        }

        SignerRotatedEntry entry;
        try
        {
            entry = SignerRotatedEntry.Parse(proof.Extra);
        }
        catch (FormatViolationException e)
        {
            throw new VerificationException($"the rotation statement does not carry a valid signer.rotated entry: {e.Message}", e);
        }

        if (!SameKeys(entry.OldKeys, CurrentKeys))
        {
            throw new VerificationException("the rotation statement retires keys that are not the currently trusted ones (rotations must be followed in order, starting from the original vkeys)");
        }

        RequireSuccessors(entry.NewKeys);
        var signers = SigningKeys.Concat(entry.NewKeys).ToList();
        VerifiedReceipt receipt;
        try
        {
            receipt = new ReceiptVerifier(new CheckpointVerifier(Origin, signers, _limits)).Verify(statementReceipt);
        }
        catch (VerificationException e)
        {
            throw new VerificationException($"the rotation statement is not signed by both the current and the new keys: {e.Message}", e);
        }

        // A 64-byte line is an Ed25519 signature (the log's optional witness key, which this verifier may not have been
        // given): no rotation can hand the log to such a key, so it is no undeclared successor.
        var foreign = receipt.Checkpoint.Note.Signatures
            .Where(s => string.Equals(s.KeyName, Origin, StringComparison.Ordinal) && !signers.Any(k => k.KeyId == s.KeyId)
                && s.Signature.Length != NoteSignatureType.SignatureLength(NoteKeyKind.Ed25519))
            .ToList();
        if (foreign.Count > 0)
        {
            throw new VerificationException($"the rotation checkpoint also carries a signature by key ID {foreign[0].KeyId:x8}, which the entry does not name");
        }

        var size = receipt.Checkpoint.Checkpoint.Size;
        if (size <= LastChange)
        {
            throw new VerificationException($"the rotation at tree size {size} does not come after the last accepted key change (size {LastChange})");
        }

        var statement = new RotationStatement(receipt.Index, entry, receipt.Checkpoint, statementReceipt.ToArray());
        _epochs.Add(new KeyEpoch(size, [.. entry.NewKeys]));
        _statements.Add(statement);
        return statement;
    }

    /// <summary>
    /// Accepts an addition statement: the <c>.tlog-proof</c> receipt of a <c>signer.added</c> entry naming an Ed25519
    /// key of this log, under a checkpoint signed by every key signing now and by the added key, after the last key
    /// change. From that checkpoint's size on the key must sign too. Throws <see cref="VerificationException"/> naming
    /// the failure and leaves the chain unchanged.
    /// </summary>
    public AddedSigner Add(ReadOnlySpan<byte> statementReceipt)
    {
        var proof = TlogProof.Parse(statementReceipt);
        if (proof.Extra is null)
        {
            throw new VerificationException("the addition statement has no 'extra' line: it must carry the signer.added entry");
        }

        VerifierKey key;
        try
        {
            key = SignerAddedEntry.Read(proof.Extra).Body.Key;
        }
        catch (FormatViolationException e)
        {
            throw new VerificationException($"the addition statement does not carry a valid signer.added entry: {e.Message}", e);
        }

        if (key.Kind != NoteKeyKind.Ed25519 || !string.Equals(key.Name, Origin, StringComparison.Ordinal))
        {
            throw new VerificationException($"signer.added names a {key.Kind} key named '{key.Name}'; only an Ed25519 (0x01) key named '{Origin}' is added to this log");
        }

        if (SigningKeys.Any(k => k.KeyId == key.KeyId))
        {
            throw new VerificationException($"signer.added names key ID {key.KeyId:x8}, which already signs this log");
        }

        VerifiedReceipt receipt;
        try
        {
            receipt = new ReceiptVerifier(new CheckpointVerifier(Origin, [.. SigningKeys, key], _limits)).Verify(statementReceipt);
        }
        catch (VerificationException e)
        {
            throw new VerificationException($"the addition statement is not signed by both the current keys and the added key: {e.Message}", e);
        }

        var size = receipt.Checkpoint.Checkpoint.Size;
        if (size <= LastChange)
        {
            throw new VerificationException($"the key addition at tree size {size} does not come after the last accepted key change (size {LastChange})");
        }

        var added = new AddedSigner(size, key);
        _added.Add(added);
        return added;
    }

    /// <summary>The keys that must sign a checkpoint of tree size <paramref name="size"/>: its epoch's, then each key added by then.</summary>
    public IReadOnlyList<VerifierKey> KeysAt(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return [.. _epochs.Last(e => e.FromSize <= size).Keys, .. _added.Where(a => a.FromSize <= size).Select(a => a.Key)];
    }

    /// <summary>A checkpoint verifier for tree size <paramref name="size"/>.</summary>
    public CheckpointVerifier VerifierAt(long size) => new(Origin, KeysAt(size), _limits);

    /// <summary>Verifies a signed checkpoint under the keys valid at the tree size it claims.</summary>
    public VerifiedCheckpoint VerifyCheckpoint(ReadOnlySpan<byte> note)
    {
        var size = Checkpoint.Parse(SignedNote.Parse(note, _limits).Text).Size;
        return VerifierAt(size).Verify(note);
    }

    /// <summary>A receipt verifier that checks each receipt's checkpoint under the keys valid at its size.</summary>
    public ReceiptVerifier ReceiptVerifier() => new(new Trust.LogTrust(this));

    /// <summary>True when both lists hold the same vkeys, in any order.</summary>
    public static bool SameKeys(IReadOnlyList<VerifierKey> a, IReadOnlyList<VerifierKey> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Count == b.Count && a.Select(k => k.ToString()).Order(StringComparer.Ordinal)
            .SequenceEqual(b.Select(k => k.ToString()).Order(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    private long LastChange => Math.Max(_epochs[^1].FromSize, _added.Count > 0 ? _added[^1].FromSize : 0);

    private void RequireSuccessors(IReadOnlyList<VerifierKey> next)
    {
        if (next.Count != 2 || !next.Any(k => k.Kind == NoteKeyKind.MlDsa65) || !next.Any(k => k.Kind == NoteKeyKind.MlDsa44Cosignature))
        {
            throw new VerificationException("the rotation entry must name exactly one new ML-DSA-65 key and one new ML-DSA-44 cosignature key");
        }

        if (next.Any(k => !string.Equals(k.Name, Origin, StringComparison.Ordinal)))
        {
            throw new VerificationException($"the rotation entry names a new key that is not named '{Origin}'");
        }

        if (next.Any(k => CurrentKeys.Any(c => c.KeyId == k.KeyId)))
        {
            throw new VerificationException("the rotation entry's new keys share a key ID with the current keys");
        }
    }
}
