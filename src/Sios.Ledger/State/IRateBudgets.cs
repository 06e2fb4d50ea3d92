namespace Sios.Ledger.State;

/// <summary>
/// Per-key request and token budgets as token buckets that refill evenly over a minute (a burst up to a whole minute's
/// allowance, then a steady rate), kept where every process serving the log draws on them: in memory for one node, in
/// the log's database for several, so a key's budget is one budget however many nodes it is spread over.
/// </summary>
public interface IRateBudgets
{
    /// <summary>
    /// Takes one request from the key's budget when it has a request left and its token budget is not overdrawn; else
    /// takes nothing and says how long until it would. A null limit is no limit.
    /// </summary>
    /// <exception cref="StateUnavailableException">The database holding the budgets cannot be reached.</exception>
    RateRefusal? Admit(string keyId, int? requestsPerMinute, int? tokensPerMinute);

    /// <summary>Charges the tokens one answer used (after it, so one long answer may overdraw the budget).</summary>
    /// <exception cref="StateUnavailableException">The database holding the budgets cannot be reached.</exception>
    void Charge(string keyId, int? requestsPerMinute, int tokensPerMinute, int tokens);
}

/// <summary>Why a request was not admitted: which budget is spent, and how long until it has refilled enough.</summary>
/// <param name="Wait">How long until a request would be admitted.</param>
/// <param name="Tokens">True when the token budget is overdrawn, false when no request is left.</param>
public readonly record struct RateRefusal(TimeSpan Wait, bool Tokens);

/// <summary>The budgets of one node, in its memory: exact for that node, and forgotten (full again) when it restarts.</summary>
public sealed class MemoryRateBudgets(TimeProvider clock) : IRateBudgets
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Buckets> _keys = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public RateRefusal? Admit(string keyId, int? requestsPerMinute, int? tokensPerMinute)
    {
        if (requestsPerMinute is null && tokensPerMinute is null)
        {
            return null;
        }

        var buckets = _keys.GetOrAdd(keyId, _ => new Buckets(requestsPerMinute, tokensPerMinute, clock.GetTimestamp()));
        lock (buckets)
        {
            buckets.Refill(clock);
            if (buckets.Requests is { } r && r.Level < 1)
            {
                return new RateRefusal(r.TimeUntil(1), Tokens: false);
            }

            if (buckets.Tokens is { } t && t.Level <= 0)
            {
                return new RateRefusal(t.TimeUntil(1), Tokens: true);
            }

            if (buckets.Requests is { } requests)
            {
                requests.Level -= 1;
            }

            return null;
        }
    }

    /// <inheritdoc />
    public void Charge(string keyId, int? requestsPerMinute, int tokensPerMinute, int tokens)
    {
        if (!_keys.TryGetValue(keyId, out var buckets) || buckets.Tokens is null)
        {
            return;
        }

        lock (buckets)
        {
            buckets.Refill(clock);
            buckets.Tokens.Level -= tokens;
        }
    }

    private sealed class Buckets(int? rpm, int? tpm, long now)
    {
        private long _last = now;

        public Bucket? Requests { get; } = rpm is { } r ? new Bucket(r) : null;

        public Bucket? Tokens { get; } = tpm is { } t ? new Bucket(t) : null;

        public void Refill(TimeProvider clock)
        {
            var now = clock.GetTimestamp();
            var elapsed = clock.GetElapsedTime(_last, now);
            _last = now;
            Requests?.Refill(elapsed);
            Tokens?.Refill(elapsed);
        }
    }

    private sealed class Bucket(int perMinute)
    {
        public double Level { get; set; } = perMinute;

        private double PerSecond => perMinute / 60.0;

        public void Refill(TimeSpan elapsed) => Level = Math.Min(perMinute, Level + (elapsed.TotalSeconds * PerSecond));

        public TimeSpan TimeUntil(double level) => TimeSpan.FromSeconds(Math.Max(0, level - Level) / PerSecond);
    }
}
