using System.Diagnostics.Metrics;

namespace Sios.Server.Hosting;

/// <summary>The gateway's own instruments (meter <c>Sios.Server</c>), exported for Prometheus at <c>/metrics</c>.</summary>
public sealed class SiosMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Sios.Server";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _authFailures;
    private readonly Counter<long> _rateLimited;
    private readonly Counter<long> _refusalsFolded;
    private readonly Counter<long> _seals;
    private readonly Counter<long> _sealFailures;
    private readonly Histogram<double> _sealLatency;
    private readonly Counter<long> _tokens;

    /// <summary>Creates the instruments on a meter of their own.</summary>
    public SiosMetrics()
    {
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("sios.inference.requests", "{request}", "Authenticated inference requests, by API and HTTP status.");
        _authFailures = _meter.CreateCounter<long>("sios.auth.failures", "{request}", "Requests refused for a missing, unknown or revoked API key (not sealed one by one).");
        _rateLimited = _meter.CreateCounter<long>("sios.rate_limited", "{request}", "Requests refused with 429 for a key over its --rpm or --tpm (not sealed one by one).");
        _refusalsFolded = _meter.CreateCounter<long>("sios.refusals.folded", "{request}", "Refused requests answered but folded into the key's next sealed refusal (over its sealed-refusal budget).");
        _seals = _meter.CreateCounter<long>("sios.seals", "{entry}", "Entries sealed by the gateway.");
        _sealFailures = _meter.CreateCounter<long>("sios.seal.failures", "{entry}", "Entries the gateway could not seal (each answer withheld).");
        _sealLatency = _meter.CreateHistogram<double>("sios.seal.duration", "ms", "Time from append to durable and signed.");
        _tokens = _meter.CreateCounter<long>("sios.tokens", "{token}", "Tokens read and generated, by kind.");
    }

    /// <summary>Counts an answered inference request.</summary>
    public void Request(string api, int status) =>
        _requests.Add(1, new KeyValuePair<string, object?>("api", api), new KeyValuePair<string, object?>("status", status));

    /// <summary>Counts a refused authentication.</summary>
    public void AuthFailed(string reason) => _authFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts a request refused for a key over its budget.</summary>
    public void RateLimited() => _rateLimited.Add(1);

    /// <summary>Counts a refusal folded into its key's next sealed one.</summary>
    public void RefusalFolded() => _refusalsFolded.Add(1);

    /// <summary>Records a seal and how long it took.</summary>
    public void Sealed(TimeSpan elapsed)
    {
        _seals.Add(1);
        _sealLatency.Record(elapsed.TotalMilliseconds);
    }

    /// <summary>Counts a seal that failed.</summary>
    public void SealFailed() => _sealFailures.Add(1);

    /// <summary>Counts tokens.</summary>
    public void Tokens(int prompt, int completion)
    {
        _tokens.Add(prompt, new KeyValuePair<string, object?>("kind", "prompt"));
        _tokens.Add(completion, new KeyValuePair<string, object?>("kind", "completion"));
    }

    /// <summary>Disposes the meter.</summary>
    public void Dispose() => _meter.Dispose();

    /// <summary>Publishes the witnessing stage's counts: per witness cosignatures, refusals and unreachable rounds, and the witnessed size.</summary>
    public void Observe(Ledger.Publication.CheckpointWitnessing witnessing)
    {
        ArgumentNullException.ThrowIfNull(witnessing);
        _meter.CreateObservableCounter("sios.witness.cosignatures", () => PerWitness(witnessing, w => w.Cosigned), "{cosignature}", "Cosigned checkpoints received from each witness.");
        _meter.CreateObservableCounter("sios.witness.refusals", () => PerWitness(witnessing, w => w.Refused), "{refusal}", "Checkpoints each witness refused (a fork, a rollback, a bad proof, an unknown log or key).");
        _meter.CreateObservableCounter("sios.witness.unreachable", () => PerWitness(witnessing, w => w.Unreachable), "{round}", "Rounds in which each witness could not be reached or did not answer in time.");
        _meter.CreateObservableGauge("sios.witness.witnessed_size", () => witnessing.Witnessed?.Size ?? 0, "{entry}", "Tree size of the newest checkpoint that met the witness quorum.");
    }

    /// <summary>Publishes the time-stamping stage's counts: tokens kept, failed rounds, and the newest stamped size.</summary>
    public void Observe(Ledger.Publication.CheckpointTimestamping timestamping)
    {
        ArgumentNullException.ThrowIfNull(timestamping);
        _meter.CreateObservableCounter("sios.tsa.tokens", () => timestamping.Progress.Tokens, "{token}", "RFC 3161 tokens obtained from the TSA and kept, over published checkpoints.");
        _meter.CreateObservableCounter("sios.tsa.failures", () => timestamping.Progress.Failures, "{round}", "Rounds in which the TSA could not be reached, answered an HTTP error, or sent a reply that failed the checks.");
        _meter.CreateObservableGauge("sios.tsa.stamped_size", () => timestamping.Progress.StampedSize ?? 0, "{entry}", "Tree size of the newest published checkpoint with a time-stamp token.");
    }

    private static IEnumerable<Measurement<long>> PerWitness(Ledger.Publication.CheckpointWitnessing witnessing, Func<Ledger.Publication.WitnessProgress, long> value) =>
        witnessing.Progress.Select(w => new Measurement<long>(value(w), new KeyValuePair<string, object?>("witness", w.Name)));
}
