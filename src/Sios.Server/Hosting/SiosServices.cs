using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Ledger.Pipeline;
using Sios.Server.Access;
using Sios.Server.Vault;

namespace Sios.Server.Hosting;

/// <summary>What the gateway serves from, opened by its host (the CLI): the log, the brains, the keys, the commitment secret.</summary>
/// <param name="Log">The open log this process alone appends to.</param>
/// <param name="Brains">The brain registry.</param>
/// <param name="Pool">The pool that loads brains (sealing loads and refusals into <paramref name="Log"/>).</param>
/// <param name="Keys">The API keys.</param>
/// <param name="CommitmentSecret">The secret commitment nonces derive from (SPEC §2).</param>
/// <param name="Clock">The clock for entry times.</param>
/// <param name="Vault">Where answered content is kept for later disclosure; null (or a retention of 0) keeps nothing.</param>
public sealed record SiosServices(TransparencyLog Log, BrainRegistry Brains, BrainPool Pool, ApiKeyStore Keys, byte[] CommitmentSecret, TimeProvider Clock, ContentVault? Vault = null)
{
    /// <summary>
    /// Called after the operator added or removed a brain through the control socket, so the host can state the new
    /// set of brains (a fresh attestation); returns the index of what it sealed, or null when it seals nothing.
    /// </summary>
    public Func<CancellationToken, Task<long?>>? BrainsChanged { get; init; }

    /// <summary>Where the keys' rate budgets are drawn from: shared by every node of a shared store; null keeps them in memory.</summary>
    public Ledger.State.IRateBudgets? Budgets { get; init; }

    /// <summary>The witnessing stage when a witness policy is in force, else null.</summary>
    public Ledger.Publication.CheckpointWitnessing? Witnessing { get; init; }

    /// <summary>The time-stamping stage when a TSA is configured (for /healthz and metrics), else null.</summary>
    public Ledger.Publication.CheckpointTimestamping? Timestamping { get; init; }

    /// <summary>Where the RFC 3161 tokens over published checkpoints are kept (served at /log/timestamps/SIZE), or null for none.</summary>
    public Ledger.Publication.TimestampFolder? Timestamps { get; init; }

    /// <summary>The newest attestation this node sealed (the index of its entry and the signed statement), or null; served at /log/attestation.</summary>
    public Func<(long Index, byte[] Note)?>? LatestAttestation { get; init; }

    /// <summary>The log's signer history as the log records it, read on first use; served at /log/signers. Null: not offered.</summary>
    public Func<CancellationToken, Task<SignerHistory>>? Signers { get; init; }

    /// <summary>
    /// The checkpoint the log publishes: with a witness policy, the newest one its quorum cosigned (with their lines);
    /// otherwise, or before the first is witnessed, the newest signed one.
    /// </summary>
    public PublishedCheckpoint Published => Witnessing?.Witnessed ?? Log.Latest;
}

/// <summary>
/// How the log's signing keys came to be what they are: the original vkeys, each rotation's statement (the receipt of
/// its <c>signer.rotated</c> entry under a checkpoint signed by the old and the new keys), and the Ed25519 keys added.
/// </summary>
/// <param name="Original">The vkeys the log started with.</param>
/// <param name="Current">The vkeys that sign now (ML-DSA-65, the ML-DSA-44 cosignature key, then any Ed25519 key).</param>
/// <param name="Rotations">Each rotation: the entry index and its receipt, oldest first.</param>
/// <param name="Additions">Each added Ed25519 key and the tree size from which it signs.</param>
public sealed record SignerHistory(IReadOnlyList<string> Original, IReadOnlyList<string> Current, IReadOnlyList<(long Index, byte[] Receipt)> Rotations, IReadOnlyList<(long FromSize, string Vkey)> Additions);
