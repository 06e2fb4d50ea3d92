using Sios.Ledger.State;

namespace Sios.Ledger.Tests.State;

/// <summary>
/// The behaviour every <see cref="IRateBudgets"/> backend must show, with no time passing to speak of: a backend's test
/// project implements <see cref="Open"/>, each call a new handle on the same budgets (as another node has).
/// </summary>
public abstract class RateBudgetsConformanceTests
{
    /// <summary>A handle on the budgets; every handle draws on the same ones.</summary>
    protected abstract IRateBudgets Open();

    private static string NewKey() => Guid.NewGuid().ToString("N")[..12];

    [SkippableFact]
    public void A_key_without_limits_is_always_admitted()
    {
        var budgets = Open();
        var key = NewKey();

        for (var i = 0; i < 100; i++)
        {
            Assert.Null(budgets.Admit(key, null, null));
        }
    }

    [SkippableFact]
    public void Requests_are_admitted_up_to_a_minutes_allowance_then_refused_saying_how_long_to_wait()
    {
        var budgets = Open();
        var key = NewKey();

        for (var i = 0; i < 3; i++)
        {
            Assert.Null(budgets.Admit(key, 3, null));
        }

        var refused = budgets.Admit(key, 3, null);

        Assert.NotNull(refused);
        Assert.False(refused.Value.Tokens);
        // A request refills every 20 s at 3 a minute; a little of that may have passed already.
        Assert.InRange(refused.Value.Wait, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(20));
        Assert.NotNull(Open().Admit(key, 3, null));
        Assert.Null(Open().Admit(NewKey(), 3, null));
    }

    [SkippableFact]
    public void Tokens_charged_after_an_answer_may_overdraw_the_budget_and_then_hold_requests_back()
    {
        var budgets = Open();
        var key = NewKey();
        Assert.Null(budgets.Admit(key, 100, 60));

        Open().Charge(key, 100, 60, 90);
        var refused = budgets.Admit(key, 100, 60);

        Assert.NotNull(refused);
        Assert.True(refused.Value.Tokens);
        // 31 tokens to refill to 1 at one a second.
        Assert.InRange(refused.Value.Wait, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(31));
    }

    [SkippableFact]
    public async Task Many_handles_admitting_at_once_share_one_budget_exactly()
    {
        const int Allowance = 40;
        var key = NewKey();
        var admitted = 0;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var budgets = Open();
            for (var i = 0; i < 25; i++)
            {
                if (budgets.Admit(key, Allowance, null) is null)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        })));

        // 100 attempts against 40 a minute: the allowance, plus what refilled while the test ran (well under 2 s).
        Assert.InRange(admitted, Allowance, Allowance + 1);
    }
}

/// <summary>One node's budgets, in memory, pass the rate budget conformance suite.</summary>
public sealed class MemoryRateBudgetsConformanceTests : RateBudgetsConformanceTests
{
    private readonly MemoryRateBudgets _budgets = new(TimeProvider.System);

    protected override IRateBudgets Open() => _budgets;
}
