using System.Globalization;
using Sios.Brains.Registry;
using Sios.Ledger.Pipeline;
using Sios.Verify.Entries;

namespace Sios.Brains.Upstream;

/// <summary>
/// Seals <c>egress.refused</c> entries for the refusals of an <see cref="EgressAllowList"/>, at most one per destination
/// per <see cref="Window"/>: a process hammering a forbidden host cannot flood the log, yet nothing is hidden — the
/// next entry for that destination says how many refusals were folded into it (<c>suppressed</c>).
/// </summary>
public sealed class EgressRefusalSealer
{
    private readonly EntrySealer _sealer;
    private readonly TimeProvider _clock;
    private readonly SealBudget<string> _budget;
    private int _failures;

    /// <summary>Seals the refusals of <paramref name="egress"/> through <paramref name="sealer"/>.</summary>
    public EgressRefusalSealer(EgressAllowList egress, EntrySealer sealer, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(egress);
        ArgumentNullException.ThrowIfNull(sealer);
        _sealer = sealer;
        _clock = clock ?? TimeProvider.System;
        _budget = new SealBudget<string>(1, Window, _clock);
        egress.Refused += OnRefused;
    }

    /// <summary>The shortest time between two entries for one destination.</summary>
    public static TimeSpan Window { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Refusals whose entry could not be sealed (the connection was refused all the same).</summary>
    public int SealFailures => Volatile.Read(ref _failures);

    /// <summary>The task of the seal started for the latest refusal that was not folded (for tests and shutdown).</summary>
    public Task LastSeal { get; private set; } = Task.CompletedTask;

    private void OnRefused(EgressRefusedException refusal)
    {
        var destination = string.Create(CultureInfo.InvariantCulture, $"{refusal.Host}:{refusal.Port}");
        if (!_budget.TryTake(destination, out var suppressed))
        {
            return;
        }

        var entry = new EgressRefusedEntry(refusal.Host, refusal.Port, [.. refusal.Addresses.Select(a => a.ToString())], suppressed).Write(_clock);
        LastSeal = SealAsync(entry);
    }

    private async Task SealAsync(byte[] entry)
    {
        try
        {
            await _sealer(entry, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The connection is refused whether or not this seals; a log that cannot seal fails every answer anyway.
            Interlocked.Increment(ref _failures);
        }
    }
}
