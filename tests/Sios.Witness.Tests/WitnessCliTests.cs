using System.Globalization;
using System.Text;
using Sios.Cli.Tests;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;

namespace Sios.Witness.Tests;

/// <summary>
/// <c>sios witness init/add-log/serve</c> as real processes on 127.0.0.1, cosigning a real SIOS log's checkpoints with
/// the log's own consistency proofs (<c>sios log consistency</c>), and killed with SIGKILL while forks race.
/// </summary>
public sealed class WitnessCliTests(WitnessedLogs logs) : IClassFixture<WitnessedLogs>
{
    private static string Text(byte[] body) => Encoding.UTF8.GetString(body);

    [Fact(Timeout = 180_000)]
    public async Task Serve_answers_every_status_of_the_spec_and_its_cosignatures_verify()
    {
        logs.ResetWitness();
        await using var witness = await ServedWitness.StartAsync(logs.WitnessData);
        var (common, a1, a2) = (logs.Common, logs.A[0], logs.A[1]);

        var first = await witness.PostAsync(ServedWitness.Body(0, [], common.Note));
        Assert.True(first.Status == 200, Text(first.Body));
        Assert.All(Text(first.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("\u2014 " + WitnessedLogs.WitnessName + " ", l, StringComparison.Ordinal));
        // Per the spec the client may append the lines to the checkpoint and verify with the witness keys it trusts.
        var (_, signatures) = new NoteVerifier(logs.WitnessKeys).Verify([.. common.Note, .. first.Body]);
        Assert.Equal([NoteKeyKind.MlDsa44Cosignature, NoteKeyKind.Ed25519Cosignature], signatures.Select(s => s.Key.Kind));

        var grown = await witness.PostAsync(ServedWitness.Body(common.Size, logs.Proof('A', common.Size, a1.Size)!, a1.Note));
        Assert.True(grown.Status == 200, Text(grown.Body));
        new NoteVerifier(logs.WitnessKeys).Verify([.. a1.Note, .. grown.Body]);

        var stale = await witness.PostAsync(ServedWitness.Body(common.Size, logs.Proof('A', common.Size, a2.Size)!, a2.Note));
        Assert.Equal((409, "text/x.tlog.size", $"{a1.Size}\n"), (stale.Status, stale.ContentType, Text(stale.Body)));

        var bad = logs.Proof('A', a1.Size, a2.Size)!.ToArray();
        var hash = Convert.FromBase64String(bad[0]);
        hash[0] ^= 1;
        bad[0] = Convert.ToBase64String(hash);
        Assert.Equal(422, (await witness.PostAsync(ServedWitness.Body(a1.Size, bad, a2.Note))).Status);
        Assert.Equal(422, (await witness.PostAsync(ServedWitness.Body(a1.Size, logs.Proof('B', common.Size, logs.B[1].Size)!, logs.B[1].Note))).Status);

        Assert.Equal(404, (await witness.PostAsync(ServedWitness.Body(0, [], logs.Stranger))).Status);
        Assert.Equal(403, (await witness.PostAsync(ServedWitness.Body(a1.Size, [], logs.Impostor))).Status);
        Assert.Equal(400, (await witness.PostAsync(ServedWitness.Body(a1.Size, [], common.Note))).Status);
        Assert.Equal(409, (await witness.PostAsync(ServedWitness.Body(common.Size, [], common.Note))).Status);
        Assert.Equal(400, (await witness.PostAsync(Encoding.ASCII.GetBytes("old 00\n\n"))).Status);
        Assert.Equal(413, (await witness.PostAsync(ServedWitness.Body(a1.Size, [], [.. a2.Note, .. new byte[200_000]]))).Status);

        var latest = await witness.LatestAsync(WitnessedLogs.Origin);
        Assert.Equal(200, latest.Status);
        var kept = new CheckpointVerifier(WitnessedLogs.Origin, [.. logs.LogKeys, .. logs.WitnessKeys]).Verify(latest.Body);
        Assert.Equal(a1.Size, kept.Checkpoint.Size);
        Assert.Equal(404, (await witness.LatestAsync("stranger.sios.local/log")).Status);

        var vkeys = await SiosProcess.RunAsync(["witness", "vkeys", "--data", logs.WitnessData], passphrase: null);
        Assert.Equal(logs.WitnessKeys.Select(k => k.ToString() + "\n"), vkeys.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l + "\n"));
        var busy = await SiosProcess.RunAsync(["witness", "add-log", "--data", logs.WitnessData, "--origin", "late.sios.local/log", "--vkey", logs.LogKeys[0].ToString()]);
        Assert.Equal(4, busy.ExitCode);
    }

    [Fact(Timeout = 300_000)]
    public async Task Killed_while_forks_race_it_never_cosigns_both_forks_nor_rolls_back()
    {
        var random = new Random(20261201);
        var winners = new HashSet<char>();
        for (var round = 0; round < 6; round++)
        {
            logs.ResetWitness();
            var acknowledged = new List<(char Fork, long Size)>();
            for (var life = 0; life < 3; life++)
            {
                await using var witness = await ServedWitness.StartAsync(logs.WitnessData);
                var monitored = await witness.LatestAsync(WitnessedLogs.Origin);
                if (acknowledged.Count > 0)
                {
                    // Whatever it answered before the crash it still holds, or something consistent and larger.
                    Assert.Equal(200, monitored.Status);
                    Assert.True(SizeOf(monitored.Body) >= acknowledged.Max(a => a.Size));
                }

                using var stop = new CancellationTokenSource();
                var racers = new[] { 'A', 'B' }.Select(fork => Task.Run(() => RaceAsync(witness, fork, acknowledged, stop.Token))).ToArray();
                await Task.Delay(random.Next(50, 400));
                await witness.KillAsync();
                await stop.CancelAsync();
                await Task.WhenAll(racers);
                AssertOneFork(ReadRecord(), acknowledged);
                winners.UnionWith(ReadRecord().Select(n => Fork(SizeOf(n), RootOf(n))).Where(f => f != 'C'));
            }
        }

        // The race was real: some round got as far as cosigning a fork.
        Assert.NotEmpty(winners);
    }

    [Fact(Timeout = 180_000)]
    public async Task Dying_after_the_record_and_before_the_state_file_keeps_what_it_recorded()
    {
        logs.ResetWitness();
        var (common, a1, b1) = (logs.Common, logs.A[0], logs.B[0]);
        foreach (var (old, proof, note) in new[] { (0L, Array.Empty<string>(), common.Note), (common.Size, logs.Proof('A', common.Size, a1.Size)!, a1.Note) })
        {
            await using (var dying = await ServedWitness.StartAsync(logs.WitnessData, faultPoint: "witness:recorded"))
            {
                await Assert.ThrowsAnyAsync<HttpRequestException>(() => dying.PostAsync(ServedWitness.Body(old, proof, note)));
                Assert.Equal(86, await dying.ExitCodeAsync());
            }

            await using var witness = await ServedWitness.StartAsync(logs.WitnessData);
            // Rolled forward at start: the recorded checkpoint is held though its answer never left.
            Assert.Equal(SizeOf(note), SizeOf((await witness.LatestAsync(WitnessedLogs.Origin)).Body));
        }

        await using (var witness = await ServedWitness.StartAsync(logs.WitnessData))
        {
            var fork = await witness.PostAsync(ServedWitness.Body(common.Size, logs.Proof('B', common.Size, b1.Size)!, b1.Note));
            Assert.Equal((409, $"{a1.Size}\n"), (fork.Status, Text(fork.Body)));
            Assert.Equal(a1.Size, SizeOf((await witness.LatestAsync(WitnessedLogs.Origin)).Body));
        }

        AssertOneFork(ReadRecord(), [('A', a1.Size)]);
    }

    [Fact(Timeout = 120_000)]
    public async Task Mistakes_exit_with_the_documented_codes()
    {
        var fresh = Path.Combine(logs.Root, "w-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(2, (await SiosProcess.RunAsync(["witness", "init", "--data", fresh, "--name", "has space"])).ExitCode);
        Assert.Equal(3, (await SiosProcess.RunAsync(["witness", "init", "--data", fresh, "--name", "w.test/x"], passphrase: null)).ExitCode);
        Assert.Equal(3, (await SiosProcess.RunAsync(["witness", "vkeys", "--data", fresh])).ExitCode);
        Assert.Equal(2, (await SiosProcess.RunAsync(["witness", "init", "--data", Path.Combine(logs.Root, "log-a"), "--name", "w.test/x"])).ExitCode);
        Assert.Equal(3, (await SiosProcess.RunAsync(["witness", "init", "--data", logs.WitnessData, "--name", "w.test/x"])).ExitCode);
        var again = await SiosProcess.RunAsync(["witness", "add-log", "--data", logs.WitnessData, "--origin", WitnessedLogs.Origin, "--vkey", logs.LogKeys[0].ToString()]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already witnessed", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, (await SiosProcess.RunAsync(["witness", "add-log", "--data", logs.WitnessData, "--origin", "x.test/y", "--vkey", "x.test/y+00000000+AAAA"])).ExitCode);
        Assert.Equal(3, (await SiosProcess.RunAsync(["witness", "serve", "--data", logs.WitnessData], passphrase: "wrong")).ExitCode);
    }

    /// <summary>Submits <paramref name="fork"/>'s checkpoints from whatever size the witness says it holds, until it dies.</summary>
    private async Task RaceAsync(ServedWitness witness, char fork, List<(char Fork, long Size)> acknowledged, CancellationToken stop)
    {
        var mine = (fork == 'A' ? logs.A : logs.B).Prepend(logs.Common).ToArray();
        long held = 0;
        var next = 0;
        while (!stop.IsCancellationRequested)
        {
            // Neither fork may win the race to the first fork checkpoint by starting first.
            await Task.Delay(Random.Shared.Next(0, 4), CancellationToken.None);
            var target = mine[Math.Min(next++ % (mine.Length + 1), mine.Length - 1)];
            var proof = held <= target.Size ? logs.Proof(fork, held, target.Size) : null;
            try
            {
                var answer = await witness.PostAsync(ServedWitness.Body(held, proof ?? [], target.Note), stop);
                if (answer.Status == 409)
                {
                    held = long.Parse(Text(answer.Body).TrimEnd('\n'), CultureInfo.InvariantCulture);
                }
                else if (answer.Status == 200)
                {
                    held = target.Size;
                    lock (acknowledged)
                    {
                        acknowledged.Add((fork, target.Size));
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The witness record, read from its documented format: "sios-witness-record/v1 LENGTH SHA256HEX\n" then LENGTH bytes.</summary>
    private List<byte[]> ReadRecord()
    {
        var path = Path.Combine(logs.WitnessData, "record");
        var bytes = File.Exists(path) ? File.ReadAllBytes(path) : [];
        var notes = new List<byte[]>();
        var at = 0;
        while (at < bytes.Length)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', at);
            var header = Encoding.ASCII.GetString(bytes, at, newline - at).Split(' ');
            var length = int.Parse(header[1], CultureInfo.InvariantCulture);
            if (newline + 1 + length > bytes.Length)
            {
                // A record the kill cut short: never answered, cut off at the next start.
                break;
            }

            notes.Add(bytes[(newline + 1)..(newline + 1 + length)]);
            at = newline + 1 + length;
        }

        return notes;
    }

    /// <summary>Every recorded checkpoint is the common one or of a single fork, in non-decreasing size; every 200 is recorded.</summary>
    private void AssertOneFork(List<byte[]> record, List<(char Fork, long Size)> acknowledged)
    {
        var forks = new HashSet<char>();
        long last = 0;
        var recorded = new List<(char Fork, long Size)>();
        foreach (var note in record)
        {
            var lines = Text(note).Split('\n');
            var (size, root) = (long.Parse(lines[1], CultureInfo.InvariantCulture), lines[2]);
            Assert.True(size >= last, $"the record goes back from {last} to {size}");
            last = size;
            var fork = Fork(size, root);
            if (fork != 'C')
            {
                forks.Add(fork);
            }

            recorded.Add((fork, size));
        }

        Assert.True(forks.Count <= 1, "the witness cosigned checkpoints of both forks");
        lock (acknowledged)
        {
            Assert.All(acknowledged, a => Assert.Contains(recorded, r => r.Size == a.Size && (r.Fork == a.Fork || r.Fork == 'C')));
        }
    }

    private char Fork(long size, string root)
    {
        if (size == logs.Common.Size && RootOf(logs.Common.Note) == root)
        {
            return 'C';
        }

        return logs.A.Any(a => a.Size == size && RootOf(a.Note) == root) ? 'A'
            : logs.B.Any(b => b.Size == size && RootOf(b.Note) == root) ? 'B'
            : throw new Xunit.Sdk.XunitException($"the record holds a checkpoint of size {size} of neither fork");
    }

    private static string RootOf(byte[] note) => Text(note).Split('\n')[2];

    private static long SizeOf(byte[] note) => long.Parse(Text(note).Split('\n')[1], CultureInfo.InvariantCulture);
}
