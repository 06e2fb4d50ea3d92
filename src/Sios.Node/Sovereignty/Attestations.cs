using System.Globalization;
using System.Reflection;
using System.Text;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Upstream;


using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Server.Hosting;
using Sios.Signing;
using Sios.Verify.Attestations;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Microsoft.Extensions.Logging;
using Sios.Ledger.Durable;
using Sios.Verify.Entries;

namespace Sios.Node.Sovereignty;

/// <summary>What a statement says about the gateway: its config digest, egress allow-list and bound addresses.</summary>
/// <param name="ConfigDigest">NodeHost.ConfigDigest of the settings.</param>
/// <param name="Egress">Allowed egress hosts (empty: none).</param>
/// <param name="Listen">Addresses listened on (empty: no server running).</param>
internal sealed record GatewayFacts(string ConfigDigest, IReadOnlyList<string> Egress, IReadOnlyList<string> Listen);

/// <summary>An attestation that was signed, sealed in the log and kept in the data folder.</summary>
/// <param name="Note">The signed note bytes.</param>
/// <param name="Index">The index of its <c>attestation</c> entry.</param>
/// <param name="File">Where the data folder keeps a copy.</param>
/// <param name="Sha256">SHA-256 of the statement text.</param>
internal sealed record SealedAttestation(byte[] Note, long Index, string File, string Sha256);

/// <summary>Derives, signs and seals attestations (the sovereignty statement) for a data folder.</summary>
internal static class Attestations
{
    /// <summary>The data folder's sub-folder holding a copy of every attestation, named by its entry index.</summary>
    public const string FolderName = "attestations";

    /// <summary>The file extension of an attestation.</summary>
    public const string Extension = ".attestation";

    /// <summary>The copy of the attestation sealed as entry <paramref name="index"/>.</summary>
    public static string FileFor(DataFolder data, long index) =>
        Path.Combine(data.Path, FolderName, index.ToString(CultureInfo.InvariantCulture) + Extension);

    /// <summary>The newest attestation kept in the data folder, or null.</summary>
    public static string? Latest(DataFolder data)
    {
        var folder = Path.Combine(data.Path, FolderName);
        return !Directory.Exists(folder) ? null : Directory.EnumerateFiles(folder, "*" + Extension)
            .Select(f => (File: f, Index: long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1))
            .Where(f => f.Index >= 0)
            .OrderByDescending(f => f.Index)
            .Select(f => f.File)
            .FirstOrDefault();
    }

    /// <summary>The newest attestation kept in the data folder with the index of its entry, or null (also when it cannot be read).</summary>
    public static (long Index, byte[] Note)? ReadLatest(DataFolder data)
    {
        try
        {
            return Latest(data) is { } file ? (long.Parse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture), File.ReadAllBytes(file)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The facts a stand-alone command states: serve's defaults, or the given addresses, egress hosts, CORS origins and witnessing.</summary>
    public static GatewayFacts StandAlone(DataFolder data, IReadOnlyList<string> urls, IReadOnlyList<string> egress, IReadOnlyList<string> corsOrigins, WitnessSettings? witnessing = null)
    {
        var allow = NodeHost.AllowList(egress);
        var server = NodeHost.AsUsage(() =>
        {
            var options = new SiosServerOptions { Urls = urls.Count > 0 ? urls : [SiosServerOptions.DefaultUrl], CorsOrigins = corsOrigins };
            options.Validate();
            return options;
        });

        var settings = new ServeSettings(server, new BrainPoolOptions { Egress = allow }, LogLevel.Warning) { Witnessing = witnessing };
        return new GatewayFacts(NodeHost.ConfigDigest(data, settings), allow.Listed, urls);
    }

    /// <summary>The facts of a running gateway.</summary>
    public static GatewayFacts Serving(ServeSettings effective, IReadOnlyList<string> addresses) =>
        new(effective.Server.ConfigDigest, effective.Pool.Egress.Listed, addresses);

    /// <summary>Describes this machine now: brains (re-hashed), software, keys, gateway facts and the given log state.</summary>
    public static async Task<AttestationStatement> DeriveAsync(DataFolder data, long logSize, byte[] logRoot, GatewayFacts gateway, CancellationToken ct)
    {
        var listed = await data.WithStateCheckAsync(authority => data.Brains(authority: authority).List(), ct).ConfigureAwait(false);
        var checks = await BrainRegistry.CheckWeightsAsync(listed, null, ct).ConfigureAwait(false);
        var brains = checks.Select(c => c.Brain.Upstream is { } up
                ? AttestedBrain.Remote(c.Brain.Name, up.Url.AbsoluteUri, up.Model)
                : AttestedBrain.Local(c.Brain.Name, c.Brain.ModelSha256!, c.Brain.AdapterSha256, c.Mismatch switch
                {
                    null => DiskState.Ok,
                    { Actual: null } => DiskState.Missing,
                    _ => DiskState.Changed,
                }))
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();
        return new AttestationStatement
        {
            Origin = data.Config.Origin,
            Time = DateTimeOffset.UtcNow,
            LogSize = logSize,
            LogRoot = logRoot,
            Version = Version(),
            Components = SoftwareInventory.Collect(),
            Config = gateway.ConfigDigest,
            Egress = [.. gateway.Egress.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            Listen = [.. gateway.Listen.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            Signers = data.LoadVerifierKeys(),
            Brains = brains,
        };
    }

    /// <summary>
    /// Signs the statement with the running log's ML-DSA-65 key (a signed note; key name = origin), seals an
    /// <c>attestation</c> entry holding its SHA-256 and fields, and keeps a copy in the data folder.
    /// </summary>
    public static async Task<SealedAttestation> SealAsync(DataFolder data, TransparencyLog log, AttestationStatement statement, string actor, CancellationToken ct)
    {
        var text = statement.ToText();
        var textBytes = Encoding.UTF8.GetBytes(text);
        if (!string.Equals(log.VerifierKeys[0].ToString(), statement.Signers[0].ToString(), StringComparison.Ordinal))
        {
            throw new NodeException($"{DataFolder.KeyFile(data.Path, MlDsaAlgorithm.MlDsa65, isPublic: true)} is not the key the log signs with: the data folder's keys are inconsistent");
        }

        var note = log.SignAttestation(text);
        var digest = AttestationStatement.Digest(textBytes);
        var entry = AttestationEntry.From(statement, digest, actor).Write();
        var sealedEntry = await log.AppendAsync(entry, ct).ConfigureAwait(false);
        var file = FileFor(data, sealedEntry.Index);
        DurableFile.CreateDirectory(Path.GetDirectoryName(file)!);
        DurableFile.Replace(file, note);
        return new SealedAttestation(note, sealedEntry.Index, file, digest);
    }

    /// <summary>
    /// Seals the attestation of a running gateway: right after <c>system.started</c>, and again after each brain change
    /// made through its control socket.
    /// </summary>
    public static async Task<SealedAttestation> SealWhileServingAsync(DataFolder data, TransparencyLog log, ServeSettings effective, IReadOnlyList<string> addresses, CancellationToken ct)
    {
        var latest = log.Latest;
        var statement = await DeriveAsync(data, latest.Size, latest.Root, Serving(effective, addresses), ct).ConfigureAwait(false);
        var sealedOne = await SealAsync(data, log, statement, "system", ct).ConfigureAwait(false);
        Notice.Write($"Attestation sealed as entry {sealedOne.Index} ({sealedOne.Sha256}); the signed statement is {sealedOne.File}.");
        return sealedOne;
    }

    // The statement's line format has no room for spaces or control characters in a value.
    private static string Version() =>
        string.Concat(NodeHost.Version().Select(c => char.IsWhiteSpace(c) || char.IsControl(c) ? '_' : c));
}
