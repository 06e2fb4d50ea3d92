using System.Net;
using System.Text;
using Sios.Brains.Upstream;
using Sios.Ledger.Durable;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Publication;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Verify.Policy;
using Sios.Verify.Tiles;

namespace Sios.Node;

/// <summary>What <c>sios serve --witness-policy</c> asks for.</summary>
/// <param name="Policy">The policy (witnesses, quorum).</param>
/// <param name="Interval">How often the newest checkpoint is offered.</param>
/// <param name="Timeout">How long one witness may take to answer.</param>
internal sealed record WitnessSettings(WitnessPolicy Policy, TimeSpan Interval, TimeSpan Timeout)
{
    /// <summary>The policy's digest as sealed in <c>system.started</c>.</summary>
    public string Digest => "sha256:" + Convert.ToHexStringLower(Policy.Digest);
}

/// <summary>
/// The witnessing stage assembled for this node: the policy checked against the egress allow-list, witnesses reached
/// only through it, refusals sealed as <c>witness.refused</c>, and the newest witnessed checkpoint kept durably in
/// log/witnessed.checkpoint (checked against the store when read back, since anyone with write access to the folder
/// could replace it).
/// </summary>
internal static class NodeWitnessing
{
    public const string FileName = "witnessed.checkpoint";

    /// <summary>Refuses a policy naming a witness this node may not connect to; warns of witnesses it cannot ask.</summary>
    public static void Check(WitnessSettings settings, EgressAllowList egress, string origin)
    {
        foreach (var witness in settings.Policy.Witnesses)
        {
            if (witness.Url is not { } url)
            {
                Notice.Write($"warning: witness {witness.Name} has no URL in the policy: it is never asked, so only cosignatures it adds elsewhere can count");
                continue;
            }

            if (!Allows(egress, url))
            {
                throw new NodeException($"witness {witness.Name} is at {url}, but {url.IdnHost} is not in the egress allow-list: add --egress {url.IdnHost}", NodeFailure.Usage);
            }
        }

        if (settings.Policy.LogKeys(origin) is { Count: 0 } && settings.Policy.Logs.Count > 0)
        {
            Notice.Write($"warning: the witness policy lists no log named {origin}: verifiers using it will need this log's vkeys");
        }
    }

    /// <summary>Whether <paramref name="url"/>'s host is in the egress allow-list (the connection is checked again when made).</summary>
    public static bool Allows(EgressAllowList egress, Uri url)
    {
        var host = url.IdnHost;
        return IPAddress.TryParse(host, out var address)
            ? egress.Addresses.Contains(address)
            : egress.HostNames.Contains(host.ToLowerInvariant());
    }

    /// <summary>Creates and starts the stage over <paramref name="log"/>.</summary>
    public static async Task<CheckpointWitnessing> StartAsync(DataFolder data, TransparencyLog log, WitnessSettings settings, EgressAllowList egress, CancellationToken ct)
    {
        var file = data.WitnessedCheckpointPath;
        var kept = await ReadKeptAsync(file, log.Reader, log.Origin, log.VerifierKeys, log.Latest.Size, ct).ConfigureAwait(false);
        var client = new HttpWitnessClient(egress.CreateHandler(), settings.Timeout);
        var witnessing = new CheckpointWitnessing(settings.Policy, client, log.Reader, () => log.Latest, new WitnessingOptions
        {
            Interval = settings.Interval,
            Persist = checkpoint => DurableFile.Replace(file, checkpoint.Note),
            Refused = async (entry, token) => await log.AppendAsync(entry.Write(), token).ConfigureAwait(false),
            Warn = Notice.Write,
        }, kept);
        witnessing.Start();
        return witnessing;
    }

    /// <summary>
    /// The witnessed checkpoint kept from the last run, if it is still this log's: signed by its current keys and with
    /// the root of the stored tree at its size. Anything else is set aside with a notice (never trusted).
    /// </summary>
    public static async Task<PublishedCheckpoint?> ReadKeptAsync(string file, Ledger.Storage.ILogReader store, string origin, IReadOnlyList<VerifierKey> keys, long latestSize, CancellationToken ct)
    {
        byte[] note;
        try
        {
            note = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            var verified = new CheckpointVerifier(origin, keys).Verify(note);
            var size = verified.Checkpoint.Size;
            if (size > latestSize)
            {
                throw new VerificationException($"it is at size {size}, beyond the log's newest checkpoint ({latestSize})");
            }

            var root = await new TiledTree(new Ledger.Storage.StoreLogSource(store), size).RootAsync(ct).ConfigureAwait(false);
            if (!root.AsSpan().SequenceEqual(verified.Checkpoint.Root))
            {
                throw new VerificationException($"its root is not the stored tree's at size {size}");
            }

            return new PublishedCheckpoint(size, root, note);
        }
        catch (Exception e) when (e is VerificationException or FormatViolationException)
        {
            Notice.Write($"warning: {file} is set aside, not served: {e.Message}");
            return null;
        }
    }

    /// <summary>The egress-checked message for the witness hosts, for the start notice.</summary>
    public static string Describe(WitnessSettings settings) => new StringBuilder()
        .Append($"witnessing every {settings.Interval.TotalSeconds:0.#} s under quorum '{settings.Policy.QuorumName}' of ")
        .Append(string.Join(", ", settings.Policy.Witnesses.Select(w => w.Name)))
        .ToString();
}
