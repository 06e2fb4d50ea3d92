namespace Sios.Ledger.Publication;

/// <summary>
/// The publication stages' one timer: a round at once, then one every interval, until stopped. A round that throws is
/// reported and retried at the next interval (the log stopping, a disk that refused a file): a stage outside the
/// append path must never take the gateway down with it.
/// </summary>
internal sealed class RoundLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>Starts the rounds (once; a second call does nothing).</summary>
    public void Start(Func<CancellationToken, Task> round, TimeSpan interval, Action<string>? warn, string what) =>
        _loop ??= Task.Run(() => RunAsync(round, interval, warn, what));

    /// <summary>Stops the rounds; a round under way is cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunAsync(Func<CancellationToken, Task> round, TimeSpan interval, Action<string>? warn, string what)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await round(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                warn?.Invoke($"{what} round failed: {e.Message}");
            }

            try
            {
                await Task.Delay(interval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
