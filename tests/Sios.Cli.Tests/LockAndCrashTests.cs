using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sios.Ledger.Sqlite;

namespace Sios.Cli.Tests;

public sealed class LockAndCrashTests : IAsyncLifetime
{
    private readonly InitialisedLog _log = new();

    public Task InitializeAsync() => _log.InitializeAsync();

    public Task DisposeAsync() => _log.DisposeAsync();

    [Fact]
    public async Task A_second_writer_is_told_which_process_holds_the_log()
    {
        await using (var store = SqliteLogStore.Open(Path.Combine(_log.Data, "log", "log.db")))
        {
            await store.AcquireWriterAsync();
            var run = await SiosProcess.RunAsync(["log", "note", "blocked", "--data", _log.Data]);
            Assert.Equal(4, run.ExitCode);
            Assert.Contains($"in use by PID {Environment.ProcessId}", run.Stderr, StringComparison.Ordinal);

            var reader = await SiosProcess.RunAsync(["log", "checkpoint", "--data", _log.Data], passphrase: null);
            Assert.Equal(0, reader.ExitCode);
        }

        Assert.Equal(0, (await SiosProcess.RunAsync(["log", "note", "free again", "--data", _log.Data])).ExitCode);
    }

    [Fact]
    public async Task Killing_the_writer_mid_stream_loses_no_acknowledged_entry()
    {
        var acknowledged = new Dictionary<long, string>();
        var random = new Random(20261126);
        for (var round = 0; round < 3; round++)
        {
            using var process = Process.Start(SiosProcess.StartInfo(["log", "note", "--stdin", "--data", _log.Data]))!;
            var sent = new List<string>();
            var writer = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; ; i++)
                    {
                        var text = $"round {round} line {i} {Guid.NewGuid()}";
                        lock (sent)
                        {
                            sent.Add(text);
                        }

                        await process.StandardInput.WriteLineAsync(text);
                        if (i % 50 == 0)
                        {
                            await process.StandardInput.FlushAsync();
                        }
                    }
                }
                catch (IOException)
                {
                    // The pipe breaks when the process is killed: that is the point of the test.
                }
            });

            var acks = new List<long>();
            var firstAck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var reader = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync() is { } line)
                {
                    acks.Add(long.Parse(line, CultureInfo.InvariantCulture));
                    firstAck.TrySetResult();
                }
            });

            // The kill lands at a random moment after the writer is up and acknowledging (start-up, which unlocks the
            // keys, takes seconds on a loaded machine), so every round really cuts a stream that is being sealed.
            await firstAck.Task.WaitAsync(TimeSpan.FromMinutes(1));
            await Task.Delay(random.Next(50, 1_000));
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            await reader;
            await writer;
            Assert.True(acks.Count > 0, "the writer acknowledged nothing before it was killed");
            lock (sent)
            {
                for (var k = 0; k < acks.Count; k++)
                {
                    acknowledged[acks[k]] = sent[k];
                }
            }
        }

        // Restart: the log recovers (signing any durable tail), audits clean, and holds every acknowledged entry.
        Assert.Equal(0, (await SiosProcess.RunAsync(["log", "note", "after the crashes", "--data", _log.Data])).ExitCode);
        var audit = await SiosProcess.RunAsync(["log", "verify", "--data", _log.Data], passphrase: null);
        Assert.True(audit.ExitCode == 0, audit.Stderr);
        await using var store = SqliteLogStore.Open(Path.Combine(_log.Data, "log", "log.db"));
        var size = (await store.GetLatestCheckpointAsync())!.Size;
        var entries = await store.ReadEntriesAsync(0, (int)size);
        foreach (var (index, text) in acknowledged)
        {
            Assert.True(index < size, $"acknowledged entry {index} is beyond the log (size {size})");
            using var json = JsonDocument.Parse(entries[(int)index]);
            Assert.Equal(text, json.RootElement.GetProperty("text").GetString());
        }

    }
}
