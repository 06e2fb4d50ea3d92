using System.Text.Json;
using Sios.Brains.Registry;


using Sios.Server.Access;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Attestations;
using Sios.Verify.Checkpoints;
using Sios.Verify.Rotation;
using Sios.Verify.Crypto;

namespace Sios.Node.Sovereignty;

/// <summary>One weight file of a local brain: where it is, its pin, and whether it still matches.</summary>
internal sealed record WeightFileFact(string Brain, string Role, string Pinned, string Disk, StorageLocation Location);

/// <summary>An upstream brain: its weights are on the operator's other host, reached at <paramref name="Url"/>.</summary>
internal sealed record UpstreamFact(string Brain, string Url, string Model);

/// <summary>A key file, what it holds, and how it is protected.</summary>
internal sealed record KeyFact(string What, string Protection, StorageLocation Location);

/// <summary>The latest attestation kept in the data folder, and whether it verified.</summary>
internal sealed record AttestationFact(string File, bool Valid, string? Problem, AttestationStatement? Statement);

/// <summary>One of the seed's five questions, answered from local evidence.</summary>
internal sealed record Answer(string Question, string Text);

/// <summary>Everything the sovereignty report states; gathered by <see cref="SovereigntyReport.GatherAsync"/>.</summary>
internal sealed record SovereigntyFacts(
    DateTimeOffset Generated,
    string DataFolder,
    string Origin,
    string Vkey,
    IReadOnlyList<WeightFileFact> Weights,
    IReadOnlyList<UpstreamFact> Upstreams,
    IReadOnlyList<KeyFact> Keys,
    int ApiKeys,
    int ApiKeysActive,
    StorageLocation Record,
    AuditReport Audit,
    AttestationFact? Attestation,
    IReadOnlyList<Answer> Answers)
{
    /// <summary>The witnesses' side of the record.</summary>
    public WitnessFacts Witnessing { get; init; } = new(null, [], []);
}

/// <summary>Gathers the sovereignty report's facts from the data folder, running the checks it states now.</summary>
internal static class SovereigntyReport
{
    /// <summary>The five questions of the seed, in order.</summary>
    public static readonly string[] Questions =
    [
        "Where are the weights?",
        "Who holds the keys?",
        "Where is the record?",
        "Can it be verified without us?",
        "Can anyone reach it from outside?",
    ];

    /// <summary>Re-hashes every brain, audits the whole log and verifies the latest attestation, then states the facts.</summary>
    public static async Task<SovereigntyFacts> GatherAsync(DataFolder data, CancellationToken ct)
    {
        var generated = DateTimeOffset.UtcNow;
        var vkeys = data.LoadVerifierKeys();
        var brains = data.Brains().List();
        var checks = await BrainRegistry.CheckWeightsAsync(brains, null, ct).ConfigureAwait(false);
        var weights = new List<WeightFileFact>();
        var upstreams = new List<UpstreamFact>();
        foreach (var check in checks)
        {
            var b = check.Brain;
            if (b.Upstream is { } up)
            {
                upstreams.Add(new UpstreamFact(b.Name, up.Url.AbsoluteUri, up.Model));
                continue;
            }

            weights.Add(new WeightFileFact(b.Name, "model", b.ModelSha256!, DiskOf(check, b.ModelPath!), MountTable.Locate(b.ModelPath!)));
            if (b.AdapterPath is not null)
            {
                weights.Add(new WeightFileFact(b.Name, "adapter", b.AdapterSha256!, DiskOf(check, b.AdapterPath), MountTable.Locate(b.AdapterPath)));
            }
        }

        var keys = new List<KeyFact>
        {
            PrivateKey(data, MlDsaAlgorithm.MlDsa65, "log signing key (ML-DSA-65): signs checkpoints and attestations"),
            PrivateKey(data, MlDsaAlgorithm.MlDsa44, "log cosigning key (ML-DSA-44): cosigns checkpoints"),
            new("master secret: derives the commitment nonces", "encrypted at rest under SIOS_KEY_PASSPHRASE (PBKDF2 + AES-GCM)", MountTable.Locate(data.MasterKeyPath)),
            new("API keys", "only SHA-256 hashes of the secrets; each secret was shown once to its holder", data.Config.Store is null
                ? MountTable.Locate(data.ApiKeysPath)
                : new StorageLocation(data.ApiKeysDocument.Location, Exists: true, null, null, null, "postgresql")),
        };
        var apiKeys = data.ApiKeys().List();

        AuditReport audit;
        WitnessFacts witnessing;
        await using (var store = data.OpenReader())
        {
            var chain = new SignerKeyChain(data.KeyFiles.ReadOriginalVerifierKeys());
            var passphrase = Environment.GetEnvironmentVariable(Signing.KeyPassphrase.EnvironmentVariable) is { Length: > 0 } p ? p : null;
            var (json, _) = await LogAudit.RunAsync(store, chain, data.LoadSigningKeys(), ct, data.PublishedCheckpointPath,
                passphrase is null ? null : data.LoadTailKey(passphrase),
                passphrase is null ? null : () => data.StateProblem(store, passphrase)).ConfigureAwait(false);
            audit = JsonSerializer.Deserialize(json, AuditReportJson.Default.AuditReport)!;
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false);
            witnessing = await WitnessFacts.GatherAsync(data, store, latest?.Size ?? 0, ct).ConfigureAwait(false);
        }

        var attestation = LatestAttestation(data, vkeys[0]);
        var facts = new SovereigntyFacts(generated, data.Path, data.Config.Origin, vkeys[0].ToString(), weights, upstreams, keys,
            apiKeys.Count, apiKeys.Count(k => k.Revoked is null), LogLocation(data), audit, attestation, []) { Witnessing = witnessing };
        return facts with { Answers = Answers(facts) };
    }

    // A shared store is named by its URL (which holds no secret), not by a mount of this machine: the record is not on it.
    private static StorageLocation LogLocation(DataFolder data) =>
        data.Config.Store is { } store ? new StorageLocation(LogStores.ParsePostgres(store).Display, true, null, null, "postgresql", null) : MountTable.Locate(data.DatabasePath);

    private static string DiskOf(WeightCheck check, string path) =>
        check.Mismatch is not { } m || !string.Equals(m.File, path, StringComparison.Ordinal) ? "ok" : m.Actual is null ? "missing" : "changed";

    private static KeyFact PrivateKey(DataFolder data, MlDsaAlgorithm algorithm, string what)
    {
        var file = DataFolder.KeyFile(data.Path, algorithm, isPublic: false);
        var encrypted = File.Exists(file) && File.ReadLines(file).FirstOrDefault() is { } first && first.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal);
        return new KeyFact(what, encrypted ? "encrypted PKCS#8 (PBES2, AES-256-CBC) under SIOS_KEY_PASSPHRASE" : "NOT an encrypted PKCS#8 file", MountTable.Locate(file));
    }

    private static AttestationFact? LatestAttestation(DataFolder data, Sios.Verify.Notes.VerifierKey key)
    {
        if (Attestations.Latest(data) is not { } file)
        {
            return null;
        }

        try
        {
            if (new FileInfo(file).Length > AttestationLimits.Default.MaxBytes)
            {
                return new AttestationFact(file, false, $"larger than any attestation ({AttestationLimits.Default.MaxBytes} bytes)", null);
            }

            var verified = new AttestationVerifier(key).Verify(File.ReadAllBytes(file));
            return new AttestationFact(file, true, null, verified.Statement);
        }
        catch (VerificationException e)
        {
            return new AttestationFact(file, false, e.Message, null);
        }
    }

    private static List<Answer> Answers(SovereigntyFacts f)
    {
        var mounts = f.Weights.Select(w => w.Location.MountPoint is { } m ? $"{m} ({w.Location.Source}, {w.Location.FileSystem}, device {w.Location.Device})" : "an unknown mount")
            .Distinct(StringComparer.Ordinal).ToList();
        var changed = f.Weights.Count(w => w.Disk != "ok");
        var weights = f.Weights.Count == 0 && f.Upstreams.Count == 0
            ? "No brain is registered, so no weights are held."
            : $"{f.Weights.Count} weight file(s) of {f.Weights.Select(w => w.Brain).Distinct().Count()} local brain(s) are on this machine, on {string.Join("; ", mounts)}; "
              + (changed == 0 ? "every one was re-hashed just now and matches its pinned SHA-256." : $"{changed} of them do NOT match their pinned SHA-256 (see above).")
              + (f.Upstreams.Count == 0 ? "" : $" {f.Upstreams.Count} upstream brain(s) answer from hosts the operator runs: {string.Join(", ", f.Upstreams.Select(u => u.Url))}.");
        var keys = $"The log's signing keys and the master secret are in {Path.Combine(f.DataFolder, "keys")}, encrypted at rest; only whoever knows SIOS_KEY_PASSPHRASE can use them. "
            + $"API keys: {f.ApiKeys} ({f.ApiKeysActive} active), stored as hashes; their secrets are held only by the people they were given to. "
            + "There is no remote control plane: keys are changed only from this machine, through the data folder or the server's Unix control socket.";
        var record = $"The Open Audit Record is the SQLite database {f.Record.Path} on {f.Record.MountPoint ?? "an unknown mount"} (device {f.Record.Device ?? "unknown"}); "
            + (f.Audit.Intact ? $"audited just now: {f.Audit.Entries} entries, {f.Audit.Tiles} tiles and {f.Audit.Checkpoints} signed checkpoints agree (size {f.Audit.Size})." : $"the audit just now FAILED: {f.Audit.Problem}")
            + f.Witnessing.Describe();
        var verify = $"Yes: with only the ML-DSA-65 vkey {f.Vkey[..Math.Min(f.Vkey.Length, f.Origin.Length + 9)]}… anyone can check receipts ('sios verify receipt'), an exported log ('sios verify log') "
            + "and attestations ('sios verify attestation') offline, with no server and no word from the vendor.";
        var reach = f.Attestation?.Statement is { } s
            ? (s.Listen.Count == 0 ? $"The latest attestation ({AttestationStatement.FormatTime(s.Time)}) was made without a running server, so it records no listening address. " : $"The latest attestation ({AttestationStatement.FormatTime(s.Time)}) records the gateway listening on {string.Join(", ", s.Listen)}"
                + (s.Listen.All(IsLoopback) ? ": loopback only, so only this machine can connect. " : ": NOT loopback only, so other machines on those networks can connect (each request needs an API key). "))
              + (s.Egress.Count == 0 ? "Egress: none; SIOS connects to no other host." : $"Egress is allowed only to {string.Join(", ", s.Egress)}.")
            : "No attestation is kept in the data folder yet; 'sios serve' binds 127.0.0.1:8080 (loopback only) unless --urls says otherwise, and connects to no host unless --egress allows it.";
        return [new(Questions[0], weights), new(Questions[1], keys), new(Questions[2], record), new(Questions[3], verify), new(Questions[4], reach)];
    }

    private static bool IsLoopback(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.IsLoopback || u.Host is "127.0.0.1" or "[::1]" or "localhost");
}
