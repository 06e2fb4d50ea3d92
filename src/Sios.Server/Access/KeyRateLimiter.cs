using System.Collections.Concurrent;
using Sios.Ledger.Pipeline;
using Sios.Server.Http;

namespace Sios.Server.Access;

/// <summary>
/// Per-key request and token budgets (<c>sios key create --rpm N --tpm N</c>) as token buckets that refill evenly over a
/// minute: a burst up to the whole minute's allowance, then a steady rate. A request is admitted while the key has a
/// request left and its token budget is not overdrawn; the tokens an answer used are charged after it, so one long
/// answer may overdraw the budget and the next requests wait until it has refilled.
/// </summary>
internal sealed class KeyRateLimiter(TimeProvider clock, int refusalsSealedPerMinute = 20)
{
    private readonly ConcurrentDictionary<string, Buckets> _keys = new(StringComparer.Ordinal);

    /// <summary>How many of a key's refusals are sealed on their own each minute (the rest are folded into the next).</summary>
    public SealBudget<string> Refusals { get; } = new(refusalsSealedPerMinute, TimeSpan.FromMinutes(1), clock);

    /// <summary>Admits one request for <paramref name="key"/> or throws a 429 that says when to retry.</summary>
    public void Admit(ApiPrincipal key)
    {
        if (key.Rpm is null && key.Tpm is null)
        {
            return;
        }

        var buckets = _keys.GetOrAdd(key.KeyId, _ => new Buckets(key.Rpm, key.Tpm, clock.GetTimestamp()));
        TimeSpan? wait;
        string? over;
        lock (buckets)
        {
            buckets.Refill(clock);
            (wait, over) = buckets.Requests is { } r && r.Level < 1 ? (r.TimeUntil(1), $"{key.Rpm} requests")
                : buckets.Tokens is { } t && t.Level <= 0 ? (t.TimeUntil(1), $"{key.Tpm} tokens")
                : ((TimeSpan?)null, (string?)null);
            if (wait is null && buckets.Requests is { } requests)
            {
                requests.Level -= 1;
            }
        }

        if (wait is { } retry)
        {
            throw new ApiException(429,
                $"This API key is over its {over} per minute; retry in {Math.Ceiling(retry.TotalSeconds):N0} s.",
                "rate_limit_error", code: "rate_limit_exceeded", retryAfter: retry);
        }
    }

    /// <summary>Charges the tokens one answer used against the key's token budget.</summary>
    public void Charge(ApiPrincipal key, int tokens)
    {
        if (key.Tpm is null || !_keys.TryGetValue(key.KeyId, out var buckets))
        {
            return;
        }

        lock (buckets)
        {
            buckets.Refill(clock);
            buckets.Tokens!.Level -= tokens;
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
