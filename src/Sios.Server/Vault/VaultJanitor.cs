using Microsoft.Extensions.Logging;
using Sios.Brains.Registry;

namespace Sios.Server.Vault;

/// <summary>
/// Purges the vault past its retention: once when the server starts (awaited, so a start never serves with
/// expired content still kept), then once a day until the server stops.
/// </summary>
internal sealed partial class VaultJanitor : IAsyncDisposable
{
    /// <summary>How often the vault is purged while serving.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromDays(1);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private VaultJanitor(ContentVault vault, EntrySealer seal, TimeProvider clock, ILogger logger)
    {
        _loop = LoopAsync(vault, seal, clock, logger, _stop.Token);
    }

    /// <summary>Purges once now, then starts the daily purges.</summary>
    public static async Task<VaultJanitor> StartAsync(ContentVault vault, EntrySealer seal, TimeProvider clock, ILogger logger, CancellationToken cancellationToken)
    {
        await PurgeAsync(vault, seal, logger, cancellationToken).ConfigureAwait(false);
        return new VaultJanitor(vault, seal, clock, logger);
    }

    /// <summary>Stops the daily purges (a purge under way finishes first).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private static async Task LoopAsync(ContentVault vault, EntrySealer seal, TimeProvider clock, ILogger logger, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, clock, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                await PurgeAsync(vault, seal, logger, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed purge is retried tomorrow; the content stays encrypted meanwhile.
                LogPurgeFailed(logger, e);
            }
        }
    }

    private static async Task PurgeAsync(ContentVault vault, EntrySealer seal, ILogger logger, CancellationToken cancellationToken)
    {
        var purge = await vault.PurgeAsync(seal, cancellationToken).ConfigureAwait(false);
        if (purge.Count > 0)
        {
            LogPurged(logger, purge.Count, purge.CutOff);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Vault purged {Count} answers kept before {CutOff:O} (sealed as vault.purged)")]
    private static partial void LogPurged(ILogger logger, int count, DateTimeOffset cutOff);

    [LoggerMessage(Level = LogLevel.Error, Message = "Vault purge failed; retrying in a day")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);
}
