using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using Sios.Ledger.Pipeline;
using Sios.Verify;
using Sios.Verify.Timestamps;

namespace Sios.Ledger.Publication;

/// <summary>Tuning and hooks of <see cref="CheckpointTimestamping"/>.</summary>
public sealed class TimestampingOptions
{
    /// <summary>How often the published checkpoint is looked at; at most one query is sent per interval.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Told when the TSA cannot be reached or its answer is refused (once per change of problem, not every round).</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>How <see cref="TimestampProgress.Tsa"/> names the TSA: its scheme, host and port, never a credential, path or query.</summary>
    public string Tsa { get; init; } = "tsa";
}

/// <summary>Where the time-stamping stage stands (<see cref="TimestampProgress.State"/>).</summary>
public enum TimestampState
{
    /// <summary>No round has run yet.</summary>
    Pending,

    /// <summary>The last round kept a token, or found the published checkpoint already stamped.</summary>
    Stamping,

    /// <summary>The last query got no answer: the TSA could not be reached, did not answer in time, or answered too much.</summary>
    Unreachable,

    /// <summary>The last query was answered with an HTTP error, or with a reply that failed the checks.</summary>
    Refused,
}

/// <summary>What the time-stamping stage has done since start (for <c>/healthz</c> and metrics): names, sizes and counts, never the TSA's words.</summary>
/// <param name="Tsa">The TSA as <see cref="TimestampingOptions.Tsa"/> names it.</param>
/// <param name="State">Where the last round left it.</param>
/// <param name="StampedSize">The newest published size seen with a token (kept now or before a restart), or null before the first.</param>
/// <param name="Tokens">Tokens kept since start.</param>
/// <param name="Failures">Rounds since start whose query got no token (unreachable or refused).</param>
/// <param name="LastStatus">The HTTP status of the last answer when it was not 200, else null (no answer at all included).</param>
public sealed record TimestampProgress(string Tsa, TimestampState State, long? StampedSize, long Tokens, long Failures, int? LastStatus);

/// <summary>
/// The publication stage's trusted time (SPEC §6): at an interval, when the checkpoint the log publishes (the newest
/// witnessed one under a witness policy, else the newest signed one) has no token yet, an RFC 3161 query for SHA-256 of
/// its note text is sent to the TSA, with a fresh random nonce and the TSA's certificate requested. The token is kept
/// only if the reply grants it for exactly that imprint and nonce, carries its signer certificate, and its signature
/// verifies under it with the critical timeStamping EKU; the chain to a trusted CA is the verifier's to check.
/// <para>
/// Nothing queues but the newest: while the TSA is unreachable the published checkpoint is asked for again every
/// interval, and checkpoints published meanwhile are skipped. That loses no dating: a token over a later tree head
/// bounds the time of every entry it contains, the skipped ones' included. For the same reason the backlog survives a
/// restart by itself: the first round after it asks for whatever is published then, unless it is already stamped.
/// </para>
/// </summary>
public sealed class CheckpointTimestamping : IAsyncDisposable
{
    private const int NonceBytes = 16;

    private readonly ITimestampClient _client;
    private readonly Func<PublishedCheckpoint> _published;
    private readonly TimestampingOptions _options;
    private readonly RoundLoop _rounds = new();
    private readonly Lock _gate = new();
    private TimestampProgress _progress;
    private string? _problem;

    /// <summary>
    /// Creates the stage: tokens from <paramref name="client"/> (owned from here on, disposed with the stage) over what
    /// <paramref name="published"/> returns, kept in <paramref name="folder"/>.
    /// </summary>
    public CheckpointTimestamping(ITimestampClient client, TimestampFolder folder, Func<PublishedCheckpoint> published, TimestampingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(published);
        _client = client;
        Folder = folder;
        _published = published;
        _options = options ?? new TimestampingOptions();
        _progress = new TimestampProgress(_options.Tsa, TimestampState.Pending, null, 0, 0, null);
    }

    /// <summary>Where the tokens are kept.</summary>
    public TimestampFolder Folder { get; }

    /// <summary>Where the stage stands; read from any thread (the rounds replace it whole).</summary>
    public TimestampProgress Progress => Volatile.Read(ref _progress);

    /// <summary>Starts the rounds at the configured interval (the first at once).</summary>
    public void Start() => _rounds.Start(RoundAsync, _options.Interval, _options.Warn, "time-stamping");

    /// <summary>
    /// One round: when the published checkpoint has no token, asks the TSA for one and keeps it if it checks out.
    /// Returns whether a token was kept.
    /// </summary>
    public async Task<bool> RoundAsync(CancellationToken cancellationToken = default)
    {
        var checkpoint = _published();
        if (Folder.Contains(checkpoint.Size))
        {
            // Nothing to ask, which is the healthy idle state: after a restart too, its token kept by the run before.
            Record(p => p with { State = TimestampState.Stamping, StampedSize = Math.Max(p.StampedSize ?? 0, checkpoint.Size), LastStatus = null });
            return false;
        }

        var imprint = TimestampVerifier.Imprint(checkpoint.Note);
        var request = Rfc3161TimestampRequest.CreateFromHash(imprint, HashAlgorithmName.SHA256, nonce: RandomNumberGenerator.GetBytes(NonceBytes), requestSignerCertificates: true);
        var reply = await _client.RequestAsync(request.Encode(), cancellationToken).ConfigureAwait(false);
        if (reply.Status != 200)
        {
            Problem(checkpoint.Size, reply.Status == 0 ? reply.Error ?? "no answer" : $"the TSA answered HTTP {reply.Status}");
            Record(p => p with
            {
                State = reply.Status == 0 ? TimestampState.Unreachable : TimestampState.Refused,
                Failures = p.Failures + 1,
                LastStatus = reply.Status == 0 ? null : reply.Status,
            });
            return false;
        }

        byte[] token;
        try
        {
            // Status granted, the imprint and nonce of this request, the signer certificate present (RFC 3161 §2.4.2).
            var granted = request.ProcessResponse(reply.Body, out var read);
            if (read != reply.Body.Length)
            {
                throw new VerificationException($"{reply.Body.Length - read} bytes follow its TimeStampResp");
            }

            token = granted.AsSignedCms().Encode();
            // Checked again as stored, as every verifier will: SHA-256, the signature under its own certificate, the critical EKU.
            _ = TimestampVerifier.CheckToken(token, imprint);
        }
        catch (Exception e) when (e is CryptographicException or VerificationException)
        {
            Problem(checkpoint.Size, $"its reply is refused: {e.Message}");
            Record(p => p with { State = TimestampState.Refused, Failures = p.Failures + 1, LastStatus = null });
            return false;
        }

        Folder.Save(checkpoint.Size, token);
        Record(p => p with { State = TimestampState.Stamping, StampedSize = Math.Max(p.StampedSize ?? 0, checkpoint.Size), Tokens = p.Tokens + 1, LastStatus = null });
        if (_problem is not null)
        {
            _options.Warn?.Invoke($"time-stamping: the TSA answers again; the checkpoint at size {checkpoint.Size} is stamped");
            _problem = null;
        }

        return true;
    }

    /// <summary>Stops the rounds (a query under way is abandoned).</summary>
    public async ValueTask DisposeAsync()
    {
        await _rounds.DisposeAsync().ConfigureAwait(false);
        (_client as IDisposable)?.Dispose();
    }

    // One writer at a time (a test may run rounds beside the loop); readers take the snapshot without the lock.
    private void Record(Func<TimestampProgress, TimestampProgress> change)
    {
        lock (_gate)
        {
            Volatile.Write(ref _progress, change(_progress));
        }
    }

    private void Problem(long size, string problem)
    {
        if (!string.Equals(problem, _problem, StringComparison.Ordinal))
        {
            _options.Warn?.Invoke($"time-stamping: no token yet for the checkpoint at size {size}, asked again every {_options.Interval.TotalSeconds:0.#} s: {problem}");
        }

        _problem = problem;
    }
}
