using System.Text;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Entries;
using Sios.Verify.Notes;
using Sios.Verify.Policy;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Publication;

/// <summary>Tuning and hooks of <see cref="CheckpointWitnessing"/>.</summary>
public sealed class WitnessingOptions
{
    /// <summary>How often the newest checkpoint is offered to the witnesses (never once per answer).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Seals a refusal (the node appends it to the log). Called once per change of a witness's refusal (status and the
    /// size it holds), not once per round, so a witness that keeps refusing cannot grow the log without bound.
    /// </summary>
    public Func<WitnessRefusedEntry, CancellationToken, Task>? Refused { get; init; }

    /// <summary>Makes a newly witnessed checkpoint durable; called before it is served, so nothing served is lost on a crash.</summary>
    public Action<PublishedCheckpoint>? Persist { get; init; }

    /// <summary>Told of every round's problems (a witness unreachable, a bad answer), for the operator's log.</summary>
    public Action<string>? Warn { get; init; }
}

/// <summary>What the log knows of one witness of its policy (for <c>/healthz</c>, metrics and <c>sios report</c>).</summary>
/// <param name="Name">The policy's name for it.</param>
/// <param name="Url">Its submission prefix, or null when the policy gives none (it is then never asked).</param>
/// <param name="HeldSize">The size the witness last said or showed it holds.</param>
/// <param name="LastStatus">The last HTTP status it answered (0: unreachable), or null before the first round.</param>
/// <param name="LastProblem">The last refusal or failure, or null.</param>
/// <param name="Cosigned">Cosignatures received since start.</param>
/// <param name="Refused">Refusals since start.</param>
/// <param name="Unreachable">Rounds it could not be reached or did not answer in time.</param>
public sealed record WitnessProgress(string Name, Uri? Url, long HeldSize, int? LastStatus, string? LastProblem, long Cosigned, long Refused, long Unreachable);

/// <summary>
/// The publication stage's witnessing (tessera keeps witnessing in publication): at an interval the newest signed
/// checkpoint is sent to every witness of the policy (c2sp.org/tlog-witness), one consistency proof per old size shared
/// across witnesses, each with its own deadline; a 409 teaches the witness's size and the request is retried once
/// with the right proof; returned cosignatures are verified and appended after the log's own lines, and the result is
/// published as the witnessed checkpoint when it meets the policy's quorum. Answers never wait for any of it.
/// </summary>
public sealed class CheckpointWitnessing : IAsyncDisposable
{
    private readonly WitnessPolicy _policy;
    private readonly IWitnessClient _client;
    private readonly ILogReader _reader;
    private readonly Func<PublishedCheckpoint> _latest;
    private readonly WitnessingOptions _options;
    private readonly Endpoint[] _endpoints;
    private readonly RoundLoop _rounds = new();
    private PublishedCheckpoint? _witnessed;

    /// <summary>
    /// Creates the stage. <paramref name="witnessed"/> is the last witnessed checkpoint kept from a previous run (already
    /// checked against the store), or null; <paramref name="latest"/> reads the log's newest signed checkpoint.
    /// </summary>
    public CheckpointWitnessing(WitnessPolicy policy, IWitnessClient client, ILogReader reader, Func<PublishedCheckpoint> latest, WitnessingOptions? options = null, PublishedCheckpoint? witnessed = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(latest);
        _policy = policy;
        _client = client;
        _reader = reader;
        _latest = latest;
        _options = options ?? new WitnessingOptions();
        _witnessed = witnessed;
        // One submission per URL: a witness with two keys (ML-DSA-44 and Ed25519) is two policy lines and one server.
        _endpoints = [.. policy.Witnesses.Where(w => w.Url is not null).GroupBy(w => w.Url!.AbsoluteUri, StringComparer.Ordinal)
            .Select(g => new Endpoint(g.First().Url!, [.. g], witnessed is null ? 0 : HeldFrom(witnessed, [.. g])))];
        Unsubmitted = [.. policy.Witnesses.Where(w => w.Url is null)];
    }

    /// <summary>The newest checkpoint that met the quorum, with its cosignatures, or null before the first.</summary>
    public PublishedCheckpoint? Witnessed => Volatile.Read(ref _witnessed);

    /// <summary>The policy being applied.</summary>
    public WitnessPolicy Policy => _policy;

    /// <summary>Policy witnesses without a URL: their cosignatures are never asked for.</summary>
    public IReadOnlyList<PolicyWitness> Unsubmitted { get; }

    /// <summary>Each witness's state, in policy order.</summary>
    public IReadOnlyList<WitnessProgress> Progress =>
        [.. _policy.Witnesses.Select(w => _endpoints.FirstOrDefault(e => e.Members.Contains(w)) is { } e
            ? e.Snapshot(w.Name)
            : new WitnessProgress(w.Name, null, 0, null, "no URL in the policy: never asked", 0, 0, 0))];

    /// <summary>Starts the rounds at the configured interval (the first at once).</summary>
    public void Start() => _rounds.Start(RoundAsync, _options.Interval, _options.Warn, "witnessing");

    /// <summary>
    /// One round: offers the newest checkpoint to every witness and publishes it if its cosignatures meet the quorum.
    /// Returns whether a new witnessed checkpoint was published.
    /// </summary>
    public async Task<bool> RoundAsync(CancellationToken cancellationToken = default)
    {
        var checkpoint = _latest();
        if (Witnessed is { } done && done.Size >= checkpoint.Size)
        {
            return false;
        }

        var proofs = new Dictionary<long, Task<IReadOnlyList<byte[]>>>();
        Task<IReadOnlyList<byte[]>> Proof(long old)
        {
            lock (proofs)
            {
                if (!proofs.TryGetValue(old, out var task))
                {
                    task = old == 0 || old == checkpoint.Size
                        ? Task.FromResult<IReadOnlyList<byte[]>>([])
                        : new TiledTree(new StoreLogSource(_reader), checkpoint.Size).ConsistencyProofAsync(old, cancellationToken).AsTask();
                    proofs[old] = task;
                }

                return task;
            }
        }

        var lines = await Task.WhenAll(_endpoints.Select(e => SubmitAsync(e, checkpoint, Proof, cancellationToken))).ConfigureAwait(false);
        var cosigners = _policy.Witnesses.Where(w => lines.Any(l => l.Any(x => x.Witness == w))).ToList();
        if (!_policy.IsSatisfied(cosigners))
        {
            return false;
        }

        var note = new StringBuilder(Encoding.UTF8.GetString(checkpoint.Note));
        foreach (var witness in _policy.Witnesses)
        {
            foreach (var line in lines.SelectMany(l => l).Where(l => l.Witness == witness))
            {
                note.Append(line.Text);
            }
        }

        var witnessed = new PublishedCheckpoint(checkpoint.Size, checkpoint.Root, Encoding.UTF8.GetBytes(note.ToString()));
        _options.Persist?.Invoke(witnessed);
        Volatile.Write(ref _witnessed, witnessed);
        return true;
    }

    /// <summary>Stops the rounds (a round under way is abandoned).</summary>
    public ValueTask DisposeAsync() => _rounds.DisposeAsync();

    private async Task<List<Cosignature>> SubmitAsync(Endpoint endpoint, PublishedCheckpoint checkpoint, Func<long, Task<IReadOnlyList<byte[]>>> proof, CancellationToken ct)
    {
        // A witness that already cosigned this very checkpoint is not asked again (a round repeats while another witness
        // is down and the log idles): it would only record the same cosignature once more.
        if (endpoint.Cosignatures is { } kept && kept.Size == checkpoint.Size)
        {
            return kept.Lines;
        }

        var old = endpoint.Held;
        if (old > checkpoint.Size)
        {
            await RefuseAsync(endpoint, checkpoint, 409, old, $"the witness holds size {old}, more than this log's newest checkpoint ({checkpoint.Size}): the log was rolled back", ct).ConfigureAwait(false);
            return [];
        }

        var reply = await _client.AddCheckpointAsync(endpoint.Url, old, await proof(old).ConfigureAwait(false), checkpoint.Note, ct).ConfigureAwait(false);
        if (reply.Status == 409 && reply.HeldSize is { } held && held != old)
        {
            endpoint.Held = held;
            if (held > checkpoint.Size)
            {
                await RefuseAsync(endpoint, checkpoint, 409, held, $"the witness holds size {held}, more than this log's newest checkpoint ({checkpoint.Size}): the log was rolled back", ct).ConfigureAwait(false);
                return [];
            }

            reply = await _client.AddCheckpointAsync(endpoint.Url, held, await proof(held).ConfigureAwait(false), checkpoint.Note, ct).ConfigureAwait(false);
        }

        endpoint.LastStatus = reply.Status;
        switch (reply.Status)
        {
            case 200:
                return Accept(endpoint, checkpoint, reply);
            case 0:
                endpoint.Unreachable++;
                endpoint.LastProblem = reply.Reason;
                _options.Warn?.Invoke($"witness {endpoint.Label}: {reply.Reason}");
                return [];
            default:
                await RefuseAsync(endpoint, checkpoint, reply.Status, reply.HeldSize ?? endpoint.Held, reply.Reason, ct).ConfigureAwait(false);
                return [];
        }
    }

    private List<Cosignature> Accept(Endpoint endpoint, PublishedCheckpoint checkpoint, WitnessReply reply)
    {
        List<Cosignature> accepted = [];
        try
        {
            // The witness's lines are read as signatures of the log's own note, so each is checked over exactly what was sent.
            var combined = new byte[checkpoint.Note.Length + reply.Body.Length];
            checkpoint.Note.CopyTo(combined, 0);
            reply.Body.CopyTo(combined, checkpoint.Note.Length);
            var (note, verified) = new NoteVerifier(endpoint.Members.Select(m => m.Key)).VerifyPresent(combined);
            foreach (var member in endpoint.Members)
            {
                if (verified.FirstOrDefault(v => ReferenceEquals(v.Key, member.Key)) is null)
                {
                    continue;
                }

                var line = note.Signatures.First(s => s.KeyId == member.Key.KeyId && string.Equals(s.KeyName, member.Key.Name, StringComparison.Ordinal));
                accepted.Add(new Cosignature(member, SignedNote.FormatSignatureLine(line.KeyName, line.KeyId, line.Signature)));
            }
        }
        catch (VerificationException e)
        {
            endpoint.LastProblem = $"its cosignature does not verify: {e.Message}";
            _options.Warn?.Invoke($"witness {endpoint.Label}: {endpoint.LastProblem}");
            return [];
        }

        if (accepted.Count == 0)
        {
            endpoint.LastProblem = "it answered 200 with no cosignature by a key of the policy";
            _options.Warn?.Invoke($"witness {endpoint.Label}: {endpoint.LastProblem}");
            return [];
        }

        endpoint.Held = checkpoint.Size;
        endpoint.Cosignatures = (checkpoint.Size, accepted);
        endpoint.Cosigned++;
        endpoint.LastProblem = null;
        endpoint.LastRefusal = null;
        return accepted;
    }

    private async Task RefuseAsync(Endpoint endpoint, PublishedCheckpoint checkpoint, int status, long held, string reason, CancellationToken ct)
    {
        endpoint.Refused++;
        endpoint.LastStatus = status;
        endpoint.LastProblem = $"{status}: {reason}";
        _options.Warn?.Invoke($"witness {endpoint.Label} refused the checkpoint at size {checkpoint.Size}: {endpoint.LastProblem}");
        if (endpoint.LastRefusal == (status, held) || _options.Refused is null)
        {
            return;
        }

        // The record names the witness by its key name, its identity outside the policy; its two keys are one refusal.
        foreach (var name in endpoint.Members.Select(m => m.Key.Name).Distinct(StringComparer.Ordinal))
        {
            await _options.Refused(new WitnessRefusedEntry(name, status, held) { Checkpoint = checkpoint.Size, Reason = reason }, ct).ConfigureAwait(false);
        }

        endpoint.LastRefusal = (status, held);
    }

    private static long HeldFrom(PublishedCheckpoint witnessed, PolicyWitness[] members)
    {
        try
        {
            var lines = new NoteVerifier(members.Select(m => m.Key)).VerifyPresent(witnessed.Note).Signatures;
            return lines.Count > 0 ? witnessed.Size : 0;
        }
        catch (VerificationException)
        {
            return 0;
        }
    }

    private sealed record Cosignature(PolicyWitness Witness, string Text);

    private sealed class Endpoint(Uri url, PolicyWitness[] members, long held)
    {
        public Uri Url { get; } = url;

        public PolicyWitness[] Members { get; } = members;

        public string Label => $"{string.Join("/", Members.Select(m => m.Name))} ({Url})";

        public long Held { get; set; } = held;

        public int? LastStatus { get; set; }

        public string? LastProblem { get; set; }

        public (int Status, long Held)? LastRefusal { get; set; }

        public (long Size, List<Cosignature> Lines)? Cosignatures { get; set; }

        public long Cosigned { get; set; }

        public long Refused { get; set; }

        public long Unreachable { get; set; }

        public WitnessProgress Snapshot(string name) => new(name, Url, Held, LastStatus, LastProblem, Cosigned, Refused, Unreachable);
    }
}
