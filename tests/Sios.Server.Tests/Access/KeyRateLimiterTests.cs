using Sios.Server.Access;
using Sios.Server.Http;

namespace Sios.Server.Tests.Access;

/// <summary>Per-key budgets: a minute's allowance as a burst, then a steady refill; 429 with a Retry-After that is right.</summary>
public sealed class KeyRateLimiterTests
{
    private sealed class Clock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;

        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static ApiPrincipal Key(int? rpm, int? tpm) => new("abc123abc123", "k", ApiKeyRole.User, ["*"], rpm, tpm);

    [Fact]
    public void Requests_per_minute_allow_a_burst_then_refuse_until_refilled()
    {
        var clock = new Clock();
        var limiter = new KeyRateLimiter(clock);
        var key = Key(rpm: 3, tpm: null);
        for (var i = 0; i < 3; i++)
        {
            limiter.Admit(key);
        }

        var refused = Assert.Throws<ApiException>(() => limiter.Admit(key));
        Assert.Equal(429, refused.Status);
        Assert.Equal("rate_limit_exceeded", refused.Code);
        Assert.Equal(TimeSpan.FromSeconds(20), refused.RetryAfter);

        clock.Advance(TimeSpan.FromSeconds(19));
        Assert.Throws<ApiException>(() => limiter.Admit(key));
        clock.Advance(TimeSpan.FromSeconds(1));
        limiter.Admit(key);

        var other = key with { KeyId = "def456def456" };
        limiter.Admit(other);
        limiter.Admit(Key(null, null) with { KeyId = "free" });
    }

    [Fact]
    public void A_token_budget_is_charged_after_the_answer_and_overdrawn_budgets_wait()
    {
        var clock = new Clock();
        var limiter = new KeyRateLimiter(clock);
        var key = Key(rpm: null, tpm: 600);
        limiter.Admit(key);
        limiter.Charge(key, 900);
        var refused = Assert.Throws<ApiException>(() => limiter.Admit(key));
        Assert.Equal(TimeSpan.FromSeconds(30.1), refused.RetryAfter);
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Throws<ApiException>(() => limiter.Admit(key));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        limiter.Admit(key);
    }
}
