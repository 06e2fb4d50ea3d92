namespace Sios.Verify.Entries;

/// <summary>
/// The catalogue of entry types (SPEC §2): every type SIOS writes, each with its typed record in this namespace. More
/// may be added; a reader meets unknown ones as a plain <see cref="LogEntry"/> header and must accept them.
/// </summary>
public static class EntryTypes
{
    /// <summary>An answered (or refused) inference request: <see cref="InferenceEntry"/>.</summary>
    public const string Inference = "inference";

    /// <summary>A stream's request, sealed before its first byte: <see cref="InferenceBeginEntry"/>.</summary>
    public const string InferenceBegin = "inference.begin";

    /// <summary>A request the process died answering, sealed at the next start: <see cref="InferenceInterruptedEntry"/>.</summary>
    public const string InferenceInterrupted = "inference.interrupted";

    /// <summary>A brain added to the registry: <see cref="BrainRegisteredEntry"/>.</summary>
    public const string BrainRegistered = "brain.registered";

    /// <summary>A brain taken out of the registry: <see cref="BrainRemovedEntry"/>.</summary>
    public const string BrainRemoved = "brain.removed";

    /// <summary>A brain's weights verified and loaded, or its upstream put in use: <see cref="BrainLoadedEntry"/>.</summary>
    public const string BrainLoaded = "brain.loaded";

    /// <summary>A brain whose weights no longer match their pins: <see cref="BrainRefusedEntry"/>.</summary>
    public const string BrainRefused = "brain.refused";

    /// <summary>An API key made: <see cref="KeyCreatedEntry"/>.</summary>
    public const string KeyCreated = "key.created";

    /// <summary>An API key revoked: <see cref="KeyRevokedEntry"/>.</summary>
    public const string KeyRevoked = "key.revoked";

    /// <summary>The log's signing keys rotated: <see cref="Rotation.SignerRotatedEntry"/>.</summary>
    public const string SignerRotated = "signer.rotated";

    /// <summary>An Ed25519 log signing key added beside the post-quantum pair: <see cref="Rotation.SignerAddedEntry"/>.</summary>
    public const string SignerAdded = "signer.added";

    /// <summary>The configuration differs from the previous start's: <see cref="ConfigChangedEntry"/>.</summary>
    public const string ConfigChanged = "config.changed";

    /// <summary>The gateway started serving: <see cref="SystemStartedEntry"/>.</summary>
    public const string SystemStarted = "system.started";

    /// <summary>The gateway stopped serving: <see cref="SystemStoppedEntry"/>.</summary>
    public const string SystemStopped = "system.stopped";

    /// <summary>A signed sovereignty statement was made: <see cref="AttestationEntry"/>.</summary>
    public const string Attestation = "attestation";

    /// <summary>Free text from the operator: <see cref="OperatorNoteEntry"/>.</summary>
    public const string OperatorNote = "operator.note";

    /// <summary>A witness refused a checkpoint: <see cref="WitnessRefusedEntry"/>.</summary>
    public const string WitnessRefused = "witness.refused";

    /// <summary>An outbound connection the egress allow-list refused: <see cref="EgressRefusedEntry"/>.</summary>
    public const string EgressRefused = "egress.refused";

    /// <summary>Content vault files deleted past their retention: <see cref="VaultPurgedEntry"/>.</summary>
    public const string VaultPurged = "vault.purged";

    /// <summary>A state file (API keys, brain pins) refused or corrected from the log: <see cref="StateRefusedEntry"/>.</summary>
    public const string StateRefused = "state.refused";

    /// <summary>A state file the operator took as it stands: <see cref="StateAdoptedEntry"/>.</summary>
    public const string StateAdopted = "state.adopted";

    /// <summary>Unauthenticated entries past the last signed checkpoint removed: <see cref="LogTailDiscardedEntry"/>.</summary>
    public const string LogTailDiscarded = "log.tail.discarded";

    /// <summary>A non-empty log opened without its rollback guard file: <see cref="LogGuardMissingEntry"/>.</summary>
    public const string LogGuardMissing = "log.guard.missing";
}

/// <summary>The fixed actors of SPEC §2 (the third form, <c>key:&lt;id&gt;</c>, names the API key a request came with).</summary>
public static class EntryActors
{
    /// <summary>Changes an operator makes (CLI, control socket).</summary>
    public const string Operator = "operator";

    /// <summary>What SIOS does on its own (starts, loads, refusals, purges).</summary>
    public const string System = "system";
}
