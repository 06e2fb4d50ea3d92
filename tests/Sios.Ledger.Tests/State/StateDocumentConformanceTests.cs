using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.State;

namespace Sios.Ledger.Tests.State;

/// <summary>
/// The behaviour every <see cref="IStateDocument"/> backend must show. A backend's test project subclasses this and
/// implements <see cref="Open"/>: opening the same name twice gives two handles on one document, as two processes or
/// two nodes have.
/// </summary>
public abstract class StateDocumentConformanceTests : IDisposable
{
    protected StateDocumentConformanceTests()
    {
        Folder = Path.Combine(Path.GetTempPath(), "sios-state-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    /// <summary>The empty folder this test's documents live in (for backends that keep files).</summary>
    protected string Folder { get; }

    /// <summary>A handle on the document <paramref name="name"/>; each call is a new handle on the same document.</summary>
    protected abstract IStateDocument Open(string name);

    /// <summary>Makes a just-written document old enough for its stamp alone to be trusted (files: their mtime).</summary>
    protected virtual void Settle(string name)
    {
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing && Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    [SkippableFact]
    public void A_document_never_written_is_absent_and_current()
    {
        var document = Open("keys");

        var read = document.Read();

        Assert.Null(read.Bytes);
        Assert.True(document.IsCurrent(read.Stamp));
        Assert.True(Open("keys").IsCurrent(read.Stamp));
    }

    [SkippableFact]
    public async Task A_change_is_read_back_exactly_by_every_handle()
    {
        var content = RandomNumberGenerator.GetBytes(1 << 20);

        var result = await Open("keys").ChangeAsync((before, _) =>
        {
            Assert.Null(before);
            return Task.FromResult(new StateChange<int>(content, 7));
        });

        Assert.Equal(7, result);
        Assert.Equal(content, Open("keys").Read().Bytes);
        Assert.Null(Open("brains").Read().Bytes);
    }

    [SkippableFact]
    public async Task A_change_made_through_another_handle_makes_a_stamp_stale()
    {
        var reader = Open("keys");
        await Write(Open("keys"), "one");
        Settle("keys");
        var seen = reader.Read();
        Assert.True(reader.IsCurrent(seen.Stamp));

        await Write(Open("keys"), "two");

        Assert.False(reader.IsCurrent(seen.Stamp));
        Assert.Equal("two", Encoding.UTF8.GetString(reader.Read().Bytes!));
    }

    [SkippableFact]
    public async Task A_change_that_writes_nothing_or_throws_leaves_the_document_as_it_was()
    {
        var document = Open("keys");
        await Write(document, "kept");
        Settle("keys");
        var seen = document.Read();

        var result = await document.ChangeAsync((bytes, _) => Task.FromResult(new StateChange<string>(null, Encoding.UTF8.GetString(bytes!))));
        await Assert.ThrowsAsync<InvalidTimeZoneException>(() => document.ChangeAsync<int>((_, _) => throw new InvalidTimeZoneException("refused")));

        Assert.Equal("kept", result);
        Assert.Equal("kept", Encoding.UTF8.GetString(Open("keys").Read().Bytes!));
        Assert.True(Open("keys").IsCurrent(seen.Stamp));
    }

    [SkippableFact]
    public async Task Changes_from_many_handles_never_interleave()
    {
        const int Handles = 4;
        const int Each = 15;
        await Write(Open("counter"), "0");

        await Task.WhenAll(Enumerable.Range(0, Handles).Select(_ => Task.Run(async () =>
        {
            var document = Open("counter");
            for (var i = 0; i < Each; i++)
            {
                await document.ChangeAsync(async (bytes, ct) =>
                {
                    var value = int.Parse(Encoding.UTF8.GetString(bytes!), System.Globalization.CultureInfo.InvariantCulture);
                    // Yield inside the lock, so an unlocked read-modify-write would lose updates.
                    await Task.Delay(1, ct);
                    return new StateChange<bool>(Encoding.UTF8.GetBytes((value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), true);
                });
            }
        })));

        Assert.Equal((Handles * Each).ToString(System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(Open("counter").Read().Bytes!));
    }

    [SkippableFact]
    public async Task A_change_waits_a_bounded_time_for_a_lock_held_too_long_then_says_so()
    {
        await Write(Open("keys"), "held");
        using var release = new SemaphoreSlim(0);
        using var holding = new SemaphoreSlim(0);
        var holder = Open("keys").ChangeAsync(async (_, _) =>
        {
            holding.Release();
            await release.WaitAsync(CancellationToken.None);
            return new StateChange<bool>(Encoding.UTF8.GetBytes("holder"), true);
        });
        await holding.WaitAsync();

        using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var busy = await Assert.ThrowsAsync<StateBusyException>(() => Open("keys").ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>(Encoding.UTF8.GetBytes("waiter"), true)), watchdog.Token));
        release.Release();
        await holder;

        Assert.Contains("try again", busy.Message, StringComparison.Ordinal);
        Assert.Equal("holder", Encoding.UTF8.GetString(Open("keys").Read().Bytes!));
    }

    [SkippableFact]
    public async Task A_cancelled_change_writes_nothing()
    {
        await Write(Open("keys"), "before");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Open("keys").ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>(Encoding.UTF8.GetBytes("after"), true)), cancelled.Token));

        Assert.Equal("before", Encoding.UTF8.GetString(Open("keys").Read().Bytes!));
    }

    private static Task<bool> Write(IStateDocument document, string text) =>
        document.ChangeAsync((_, _) => Task.FromResult(new StateChange<bool>(Encoding.UTF8.GetBytes(text), true)));
}
