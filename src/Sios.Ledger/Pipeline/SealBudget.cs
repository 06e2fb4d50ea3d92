namespace Sios.Ledger.Pipeline;

/// <summary>
/// How many entries of one kind a source (an API key, a destination) may have sealed per window. Past the budget the
/// event is folded: not sealed on its own, but counted, and the next entry that source is allowed says how many were
/// folded into it. So a client that repeats a refused request cannot fill the log, and nothing is hidden from it.
/// Thread-safe; memory is bounded by the number of distinct sources active within a window.
/// </summary>
/// <typeparam name="TKey">What identifies a source.</typeparam>
public sealed class SealBudget<TKey>
    where TKey : notnull
{
    // Past this many sources, those idle for a whole window are dropped (they hold no budget worth keeping).
    private const int PruneAbove = 10_000;

    private readonly int _perWindow;
    private readonly TimeProvider _clock;
    private readonly Dictionary<TKey, State> _sources = [];
    private readonly Lock _gate = new();

    /// <summary>A budget of <paramref name="perWindow"/> sealed entries per source per <paramref name="window"/>.</summary>
    public SealBudget(int perWindow, TimeSpan window, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perWindow);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _perWindow = perWindow;
        Window = window;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The window the budget refills over.</summary>
    public TimeSpan Window { get; }

    /// <summary>
    /// True when <paramref name="source"/> may have this event sealed, with <paramref name="folded"/> the events folded
    /// since its last sealed one; false when the event is folded (counted for the next sealed one).
    /// </summary>
    public bool TryTake(TKey source, out int folded)
    {
        lock (_gate)
        {
            var now = _clock.GetTimestamp();
            if (!_sources.TryGetValue(source, out var state) || _clock.GetElapsedTime(state.Started, now) >= Window)
            {
                if (_sources.Count >= PruneAbove)
                {
                    Prune(now);
                }

                state = new State(now, 0, state?.Folded ?? 0);
                _sources[source] = state;
            }

            if (state.Sealed >= _perWindow)
            {
                state.Folded++;
                folded = 0;
                return false;
            }

            state.Sealed++;
            folded = state.Folded;
            state.Folded = 0;
            return true;
        }
    }

    private void Prune(long now)
    {
        foreach (var key in _sources.Where(s => s.Value.Folded == 0 && _clock.GetElapsedTime(s.Value.Started, now) >= Window).Select(s => s.Key).ToList())
        {
            _sources.Remove(key);
        }
    }

    private sealed class State(long started, int @sealed, int folded)
    {
        public long Started { get; } = started;

        public int Sealed { get; set; } = @sealed;

        public int Folded { get; set; } = folded;
    }
}
