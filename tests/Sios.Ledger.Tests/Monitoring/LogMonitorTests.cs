using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Crypto;
using Sios.Verify.Entries;
using Sios.Verify.Monitoring;
using Sios.Verify.Rotation;

namespace Sios.Ledger.Tests.Monitoring;

/// <summary>
/// LogMonitor against real logs (the ledger's own sequencer and signer over in-memory stores) served through a
/// source that can be made to lie: each attack must get its own verdict, naming both checkpoints.
/// </summary>
public sealed class LogMonitorTests
{
    private const string Origin = "test.example/monitor";
    private static readonly byte[] Seed65 = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] Seed44 = Enumerable.Range(2, 32).Select(i => (byte)i).ToArray();

    private static LogSigner Signer(byte offset = 0) => new(Origin,
        MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, [.. Seed65.Select(b => (byte)(b + offset))]),
        MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, [.. Seed44.Select(b => (byte)(b + offset))]));

    private static SignerKeyChain Trust() => new(Signer().VerifierKeys);

    private static byte[][] Notes(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => new OperatorNoteEntry($"{prefix} {i}").Write())];

    [Fact]
    public async Task Growth_is_accepted_across_tile_boundaries_and_every_new_entry_is_checked()
    {
        await using var log = await Log.OpenAsync();
        var monitor = new LogMonitor(log.Source, Trust());
        await log.AppendAsync(Notes("a", 3));
        var first = await monitor.PollAsync();
        Assert.Equal(MonitorVerdict.Grew, first.Verdict);
        Assert.Equal(3, first.EntriesChecked);

        foreach (var (count, size) in new[] { (300, 303L), (297, 600L), (1, 601L) })
        {
            await log.AppendAsync(Notes($"to {size}", count));
            var grew = await monitor.PollAsync();
            Assert.True(grew.Verdict == MonitorVerdict.Grew, grew.Describe());
            Assert.Equal(count, grew.EntriesChecked);
            Assert.Equal(size, monitor.Latest!.Size);
        }

        var same = await monitor.PollAsync();
        Assert.Equal(MonitorVerdict.Unchanged, same.Verdict);
        Assert.True(same.Accepted);
    }

    [Fact]
    public async Task A_consistent_rollback_is_named_with_both_checkpoints_even_across_a_restart()
    {
        var entries = Notes("shared", 10);
        await using var full = await Log.OpenAsync();
        await full.AppendAsync(entries);
        var seen = await new LogMonitor(full.Source, Trust()).PollAsync();

        await using var older = await Log.OpenAsync();
        await older.AppendAsync(entries[..6]);
        var restarted = new LogMonitor(older.Source, Trust());
        restarted.Resume(seen.Current!.Note);
        var result = await restarted.PollAsync();

        Assert.Equal(MonitorVerdict.Rollback, result.Verdict);
        var line = result.Describe();
        Assert.StartsWith($"ROLLBACK: {Origin}: ", line, StringComparison.Ordinal);
        Assert.Contains($"size 10 root {Convert.ToBase64String(seen.Current.Root)}", line, StringComparison.Ordinal);
        Assert.Contains($"size 6 root {Convert.ToBase64String(result.Current!.Root)}", line, StringComparison.Ordinal);
        Assert.Equal(10, restarted.Latest!.Size);
    }

    [Fact]
    public async Task A_fork_at_the_same_size_is_named()
    {
        var (a, b) = await ForksAsync(common: 9, sizeA: 10, sizeB: 10);
        await using (a)
        await using (b)
        {
            var result = await Follow(a, b);
            Assert.Equal(MonitorVerdict.Fork, result.Verdict);
            Assert.Contains("two different trees of size 10", result.Describe(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(9, 10, 20)]
    [InlineData(0, 1, 2)]
    [InlineData(256, 300, 700)]
    [InlineData(299, 300, 301)]
    public async Task A_fork_at_a_bigger_size_is_named(int common, int sizeA, int sizeB)
    {
        var (a, b) = await ForksAsync(common, sizeA, sizeB);
        await using (a)
        await using (b)
        {
            var result = await Follow(a, b);
            Assert.True(result.Verdict == MonitorVerdict.Fork, result.Describe());
            Assert.Contains($"size {sizeA} root", result.Describe(), StringComparison.Ordinal);
            Assert.Contains($"size {sizeB} root", result.Describe(), StringComparison.Ordinal);
            Assert.Contains($"does not contain the tree of size {sizeA}", result.Problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_extension_of_a_shared_prefix_is_not_a_fork()
    {
        var (a, b) = await ForksAsync(common: 300, sizeA: 300, sizeB: 700);
        await using (a)
        await using (b)
        {
            var result = await Follow(a, b);
            Assert.True(result.Verdict == MonitorVerdict.Grew, result.Describe());
        }
    }

    [Theory]
    [InlineData("not json at all", "not JSON")]
    [InlineData("""{"v":1,"type":"operator.note","actor":"operator","time":"2026-11-26T10:00:00.123Z"}""", "'id'")]
    [InlineData("""{"v":1,"type":"operator.note","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator"}""", "'text'")]
    public async Task A_malformed_entry_is_named_by_its_index(string entry, string problem)
    {
        await using var log = await Log.OpenAsync();
        var monitor = new LogMonitor(log.Source, Trust());
        await log.AppendAsync(Notes("fine", 4));
        Assert.Equal(MonitorVerdict.Grew, (await monitor.PollAsync()).Verdict);
        await log.AppendAsync([.. Notes("more", 2), Encoding.UTF8.GetBytes(entry), .. Notes("after", 2)]);

        var result = await monitor.PollAsync();
        Assert.Equal(MonitorVerdict.BadEntry, result.Verdict);
        Assert.StartsWith("entry 6 is malformed", result.Problem, StringComparison.Ordinal);
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
        Assert.Equal(4, monitor.Latest!.Size);
    }

    [Fact]
    public async Task An_unknown_entry_type_is_accepted()
    {
        await using var log = await Log.OpenAsync();
        await log.AppendAsync([Encoding.UTF8.GetBytes("""{"v":1,"type":"future.kind","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","what":3}""")]);
        var result = await new LogMonitor(log.Source, Trust()).PollAsync();
        Assert.True(result.Verdict == MonitorVerdict.Grew, result.Describe());
    }

    [Fact]
    public async Task A_checkpoint_signed_by_other_keys_is_untrusted_and_a_state_under_them_is_refused()
    {
        await using var impostor = await Log.OpenAsync(Signer(offset: 9));
        await impostor.AppendAsync(Notes("x", 2));
        var result = await new LogMonitor(impostor.Source, Trust()).PollAsync();
        Assert.Equal(MonitorVerdict.BadCheckpoint, result.Verdict);
        Assert.Contains("size 2 root", result.Describe(), StringComparison.Ordinal);

        var note = await impostor.Source.ReadCheckpointAsync(default);
        Assert.Throws<VerificationException>(() => new LogMonitor(impostor.Source, Trust()).Resume(note));
    }

    [Fact]
    public async Task Tiles_that_do_not_give_the_signed_root_are_named()
    {
        await using var log = await Log.OpenAsync();
        await log.AppendAsync(Notes("x", 5));
        log.Source.AlterTile = (level, index) => level == 0 && index == 0;
        var result = await new LogMonitor(log.Source, Trust()).PollAsync();
        Assert.Equal(MonitorVerdict.BadTiles, result.Verdict);
        Assert.Contains("do not hash to its signed root", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tile_that_disagrees_with_entries_the_root_confirms_is_named()
    {
        await using var log = await Log.OpenAsync();
        var monitor = new LogMonitor(log.Source, Trust());
        await log.AppendAsync(Notes("x", 512));
        Assert.Equal(MonitorVerdict.Grew, (await monitor.PollAsync()).Verdict);
        await log.AppendAsync(Notes("y", 512));

        // From 512 to 1024 the proofs read only level-1 tiles, so only the entries show level-0 tile 3 is wrong.
        log.Source.AlterTile = (level, index) => level == 0 && index == 3;
        var result = await monitor.PollAsync();
        Assert.Equal(MonitorVerdict.BadTiles, result.Verdict);
        Assert.Contains("tile/0/003 disagrees with entry 768", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_tile_inside_the_consistency_proof_is_not_called_a_fork()
    {
        await using var log = await Log.OpenAsync();
        var monitor = new LogMonitor(log.Source, Trust());
        await log.AppendAsync(Notes("x", 300));
        Assert.Equal(MonitorVerdict.Grew, (await monitor.PollAsync()).Verdict);
        await log.AppendAsync(Notes("y", 300));

        log.Source.AlterTile = (level, index) => level == 0 && index == 1;
        var result = await monitor.PollAsync();
        Assert.True(result.Verdict == MonitorVerdict.BadTiles, result.Describe());
        Assert.Contains("consistency proof", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entry_bundle_that_does_not_hash_to_the_tree_is_named()
    {
        await using var log = await Log.OpenAsync();
        await log.AppendAsync(Notes("x", 5));
        log.Source.AlterEntry = 3;
        var result = await new LogMonitor(log.Source, Trust()).PollAsync();
        Assert.Equal(MonitorVerdict.BadEntry, result.Verdict);
        Assert.Contains("entry 3 does not hash to tile/0/000.p/5", result.Problem, StringComparison.Ordinal);
    }

    /// <summary>Two logs under the same keys sharing <paramref name="common"/> entries, then each its own.</summary>
    private static async Task<(Log A, Log B)> ForksAsync(int common, int sizeA, int sizeB)
    {
        var shared = Notes("shared", common);
        var a = await Log.OpenAsync();
        var b = await Log.OpenAsync();
        await a.AppendAsync([.. shared, .. Notes("a", sizeA - common)]);
        await b.AppendAsync([.. shared, .. Notes("b", sizeB - common)]);
        return (a, b);
    }

    /// <summary>Accepts <paramref name="seen"/>'s checkpoint, then polls <paramref name="next"/> from it (as a monitor restarted on its state file).</summary>
    private static async Task<MonitorResult> Follow(Log seen, Log next)
    {
        var first = await new LogMonitor(seen.Source, Trust()).PollAsync();
        Assert.Equal(MonitorVerdict.Grew, first.Verdict);
        var monitor = new LogMonitor(next.Source, Trust());
        monitor.Resume(first.Current!.Note);
        return await monitor.PollAsync();
    }

    /// <summary>A real log over an in-memory store.</summary>
    private sealed class Log(TransparencyLog log, MemoryLogStore store) : IAsyncDisposable
    {
        public ServedStore Source { get; } = new(store);

        public static async Task<Log> OpenAsync(LogSigner? signer = null)
        {
            var store = MemoryLogStore.Open("mem-" + Guid.NewGuid().ToString("N"));
            return new Log(await TransparencyLog.OpenAsync(store, signer ?? Signer(), new TransparencyLogOptions { TailKey = Pipeline.TransparencyLogTests.TailKey }), store);
        }

        public Task<AppendResult[]> AppendAsync(byte[][] entries) => Task.WhenAll(entries.Select(e => log.AppendAsync(e)));

        public ValueTask DisposeAsync() => log.DisposeAsync();
    }

    /// <summary>A store served as a published log, with hooks that make it lie about a tile or an entry.</summary>
    private sealed class ServedStore(MemoryLogStore store) : IPublishedLog
    {
        private readonly StoreLogSource _source = new(store);

        public Func<int, long, bool>? AlterTile { get; set; }

        public long? AlterEntry { get; set; }

        public async ValueTask<byte[]> ReadCheckpointAsync(CancellationToken cancellationToken) =>
            (await store.GetLatestCheckpointAsync(cancellationToken))!.Note;

        public async ValueTask<ReadOnlyMemory<byte>> ReadTileAsync(int level, long index, int width, CancellationToken cancellationToken)
        {
            var tile = (await _source.ReadTileAsync(level, index, width, cancellationToken)).ToArray();
            if (AlterTile?.Invoke(level, index) == true)
            {
                tile[0] ^= 1;
            }

            return tile;
        }

        public async ValueTask<ReadOnlyMemory<byte>> ReadEntryBundleAsync(long index, int width, CancellationToken cancellationToken)
        {
            var bundle = (await _source.ReadEntryBundleAsync(index, width, cancellationToken)).ToArray();
            if (AlterEntry is { } entry && entry / 256 == index)
            {
                var parts = EntryBundle.Split(bundle, width);
                bundle[parts[entry % 256].Offset + parts[entry % 256].Length - 3] ^= 0x20;
            }

            return bundle;
        }
    }
}
