using Sios.Ledger.Pipeline;
using Sios.Ledger.State;
using Sios.Server.Http;

namespace Sios.Server.Access;

/// <summary>
/// Per-key request and token budgets (<c>sios key create --rpm N --tpm N</c>), drawn from <see cref="IRateBudgets"/>: a
/// request is admitted while the key has a request left and its token budget is not overdrawn; the tokens an answer used
/// are charged after it, so one long answer may overdraw the budget and the next requests wait until it has refilled.
/// </summary>
internal sealed class KeyRateLimiter(TimeProvider clock, int refusalsSealedPerMinute = 20, IRateBudgets? budgets = null)
{
    private readonly IRateBudgets _budgets = budgets ?? new MemoryRateBudgets(clock);

    /// <summary>How many of a key's refusals are sealed on their own each minute (the rest are folded into the next).</summary>
    public SealBudget<string> Refusals { get; } = new(refusalsSealedPerMinute, TimeSpan.FromMinutes(1), clock);

    /// <summary>Admits one request for <paramref name="key"/> or throws a 429 that says when to retry.</summary>
    public void Admit(ApiPrincipal key)
    {
        if (key.Rpm is null && key.Tpm is null)
        {
            return;
        }

        if (_budgets.Admit(key.KeyId, key.Rpm, key.Tpm) is { } refusal)
        {
            var over = refusal.Tokens ? $"{key.Tpm} tokens" : $"{key.Rpm} requests";
            throw new ApiException(429,
                $"This API key is over its {over} per minute; retry in {Math.Ceiling(refusal.Wait.TotalSeconds):N0} s.",
                "rate_limit_error", code: "rate_limit_exceeded", retryAfter: refusal.Wait);
        }
    }

    /// <summary>Charges the tokens one answer used against the key's token budget.</summary>
    public void Charge(ApiPrincipal key, int tokens)
    {
        if (key.Tpm is { } tpm)
        {
            _budgets.Charge(key.KeyId, key.Rpm, tpm, tokens);
        }
    }
}
