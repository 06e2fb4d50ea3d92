using System.Globalization;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Entries;
using Sios.Verify.Merkle;
using Sios.Verify.Notes;
using Sios.Verify.Tiles;

namespace Sios.Verify.Monitoring;

/// <summary>
/// Follows one published log (c2sp.org/tlog-tiles): each poll fetches its checkpoint, has <see cref="ICheckpointTrust"/>
/// verify it, and accepts it only when its tree extends the last accepted one and every new entry has its shape. The
/// proofs are the monitor's own, from the tiles, never the server's word: an RFC 9162 consistency proof between the two
/// signed roots, then the old tree's right-edge subtrees followed by the leaf hashes of the new entries, which must fold
/// into the new signed root. Entry bundles are streamed a few at a time, so memory does not grow with the log. Not thread-safe:
/// one poll at a time.
/// </summary>
public sealed class LogMonitor(IPublishedLog log, ICheckpointTrust trust)
{
    private const int Width = TilePath.FullWidth;
    private const int H = Rfc6962.HashSize;

    /// <summary>Bundles read ahead of the one being checked, so network round trips overlap.</summary>
    private const int ReadAhead = 4;

    /// <summary>The last checkpoint accepted (or resumed from), or null before the first.</summary>
    public MonitoredCheckpoint? Latest { get; private set; }

    /// <summary>
    /// Starts from a checkpoint accepted earlier (a state file), so the next poll must extend it: a rollback or fork
    /// across restarts is caught. Throws <see cref="VerificationException"/> when the note is not trusted.
    /// </summary>
    public MonitoredCheckpoint Resume(byte[] note)
    {
        ArgumentNullException.ThrowIfNull(note);
        Latest = MonitoredCheckpoint.From(trust.VerifyCheckpoint(note), note);
        return Latest;
    }

    /// <summary>
    /// Fetches and checks the log's checkpoint and the entries it adds; <see cref="Latest"/> moves only when it is
    /// accepted. A read that fails (network, refusal) throws <see cref="LogFetchException"/> and changes nothing.
    /// </summary>
    public async Task<MonitorResult> PollAsync(CancellationToken cancellationToken = default)
    {
        var note = await log.ReadCheckpointAsync(cancellationToken).ConfigureAwait(false);
        var previous = Latest;
        MonitoredCheckpoint current;
        try
        {
            current = MonitoredCheckpoint.From(trust.VerifyCheckpoint(note), note);
        }
        catch (VerificationException e)
        {
            return new MonitorResult(MonitorVerdict.BadCheckpoint, trust.Origin, previous, Unverified(note), e.Message, 0);
        }

        var result = await CompareAsync(previous, current, cancellationToken).ConfigureAwait(false);
        if (result.Verdict == MonitorVerdict.Grew)
        {
            Latest = current;
        }

        return result;
    }

    private async Task<MonitorResult> CompareAsync(MonitoredCheckpoint? previous, MonitoredCheckpoint current, CancellationToken ct)
    {
        MonitorResult Found(MonitorVerdict verdict, string? problem, long entries = 0) => new(verdict, trust.Origin, previous, current, problem, entries);

        var old = previous ?? new MonitoredCheckpoint(0, Rfc6962.EmptyRoot.ToArray(), []);
        if (current.Size < old.Size)
        {
            return Found(MonitorVerdict.Rollback, $"the log now signs a tree of {Count(current.Size)} entries, smaller than the {Count(old.Size)} it signed before");
        }

        if (current.Size == old.Size && previous is not null)
        {
            return current.Root.AsSpan().SequenceEqual(old.Root)
                ? Found(MonitorVerdict.Unchanged, null)
                : Found(MonitorVerdict.Fork, $"the log signs two different trees of size {Count(current.Size)}");
        }

        var tree = new TiledTree(log, current.Size);
        var seed = new MerkleAccumulator();
        try
        {
            if (!(await tree.RootAsync(ct).ConfigureAwait(false)).AsSpan().SequenceEqual(current.Root))
            {
                return Found(MonitorVerdict.BadTiles, $"the log's tiles at size {Count(current.Size)} do not hash to its signed root");
            }

            if (old.Size > 0 && await ExtendsAsync(tree, old, current, ct).ConfigureAwait(false) is { } fork)
            {
                return fork ? Found(MonitorVerdict.Fork, $"the tree of size {Count(current.Size)} does not contain the tree of size {Count(old.Size)}: a consistency proof from its tiles, whose hashes give its signed root, leads to another old root")
                    : Found(MonitorVerdict.BadTiles, $"the consistency proof from size {Count(old.Size)} to {Count(current.Size)} read from the log's tiles does not give its signed root");
            }

            foreach (var (start, height) in RightEdge(old.Size))
            {
                seed.Push(await tree.RangeHashAsync(start, start + (1L << height), ct).ConfigureAwait(false), height);
            }
        }
        catch (VerificationException e)
        {
            return Found(MonitorVerdict.BadTiles, $"the log's tiles at size {Count(current.Size)} cannot be read: {e.Message}");
        }

        // The trees are consistent, so an old edge that does not give the old root is a damaged tile, not a fork.
        if (!seed.Root().AsSpan().SequenceEqual(old.Root))
        {
            return Found(MonitorVerdict.BadTiles, $"the log's tiles at size {Count(current.Size)} do not give the old tree's root at size {Count(old.Size)}, though a consistency proof from them does");
        }

        var (verdict, problem, entries) = await CheckEntriesAsync(old.Size, current, seed, ct).ConfigureAwait(false);
        return Found(verdict, problem, entries);
    }

    /// <summary>
    /// Null when a consistency proof computed from the tiles proves <paramref name="current"/> extends <paramref name="old"/>;
    /// true when it proves a fork (its hashes give the signed new root, so they are that tree's, but another old root);
    /// false when the tiles cannot even give the new root, which proves nothing either way.
    /// </summary>
    private static async Task<bool?> ExtendsAsync(TiledTree tree, MonitoredCheckpoint old, MonitoredCheckpoint current, CancellationToken ct)
    {
        var proof = await tree.ConsistencyProofAsync(old.Size, ct).ConfigureAwait(false);

        // A power-of-two old tree is a node of the new one, which the proof leaves out: it comes from the tiles too.
        var leftmost = (old.Size & (old.Size - 1)) == 0 ? await tree.RangeHashAsync(0, old.Size, ct).ConfigureAwait(false) : old.Root;
        var (oldRoot, newRoot) = MerkleProofs.RootsFromConsistencyProof(old.Size, current.Size, proof, leftmost);
        if (!newRoot.AsSpan().SequenceEqual(current.Root))
        {
            return false;
        }

        return oldRoot.AsSpan().SequenceEqual(old.Root) ? null : true;
    }

    /// <summary>Reads the entries from <paramref name="from"/> to the new size, pushes their leaf hashes onto the old tree's edge, and checks the root and each entry's shape.</summary>
    private async Task<(MonitorVerdict, string?, long)> CheckEntriesAsync(long from, MonitoredCheckpoint current, MerkleAccumulator tree, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reads = new Queue<Task<Bundle>>();
        var end = (current.Size + Width - 1) / Width;
        var next = from / Width;
        long? tileMismatch = null;
        string? mismatchTile = null;
        (long Index, string Problem)? malformed = null;
        try
        {
            for (var index = from / Width; index < end; index++)
            {
                while (reads.Count < ReadAhead && next < end)
                {
                    var b = next++;
                    reads.Enqueue(Task.Run(() => ReadBundleAsync(b, BundleWidth(b, current.Size), from, stop.Token), stop.Token));
                }

                var bundle = await reads.Dequeue().ConfigureAwait(false);
                if (bundle.Failure is { } failure)
                {
                    return (failure.Verdict, failure.Problem, tree.Size - from);
                }

                for (var i = 0; i < bundle.Count; i++)
                {
                    var leaf = bundle.Leaves.AsSpan(i * H, H);
                    if (tileMismatch is null && !leaf.SequenceEqual(bundle.Tile.AsSpan(i * H, H)))
                    {
                        (tileMismatch, mismatchTile) = (index * Width + i, TilePath.Tile(0, index, bundle.Count));
                    }

                    if (index * Width + i >= from)
                    {
                        tree.Push(leaf);
                    }
                }

                malformed ??= bundle.Malformed;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        var checkedEntries = current.Size - from;
        var range = $"entries {Count(from)} to {Count(current.Size - 1)}";
        if (!tree.Root().AsSpan().SequenceEqual(current.Root))
        {
            return (MonitorVerdict.BadEntry, tileMismatch is { } entry
                ? $"entry {Count(entry)} does not hash to {mismatchTile}, and {range} do not give the signed root"
                : $"{range} do not give the signed root", checkedEntries);
        }

        if (malformed is { } bad)
        {
            return (MonitorVerdict.BadEntry, $"entry {Count(bad.Index)} is malformed: {bad.Problem}", checkedEntries);
        }

        return tileMismatch is { } at
            ? (MonitorVerdict.BadTiles, $"{mismatchTile} disagrees with entry {Count(at)}, which the signed root confirms", checkedEntries)
            : (MonitorVerdict.Grew, null, checkedEntries);
    }

    /// <summary>Reads, splits, leaf-hashes and shape-checks one bundle and reads its level-0 tile; on the thread pool, so several overlap.</summary>
    private async Task<Bundle> ReadBundleAsync(long index, int count, long from, CancellationToken ct)
    {
        var path = TilePath.EntryBundle(index, count);
        ReadOnlyMemory<byte> bytes;
        (int Offset, int Length)[] parts;
        try
        {
            bytes = await log.ReadEntryBundleAsync(index, count, ct).ConfigureAwait(false);
            parts = EntryBundle.Split(bytes.Span, count);
        }
        catch (MalformedBundleException e)
        {
            return Bundle.Failed(MonitorVerdict.BadEntry, $"entry {Count(index * Width + e.Position)} is missing or damaged ({path}: {e.Message})");
        }
        catch (VerificationException e)
        {
            return Bundle.Failed(MonitorVerdict.BadEntry, $"{path} cannot be read: {e.Message}");
        }

        var leaves = new byte[count * H];
        (long, string)? malformed = null;
        for (var i = 0; i < count; i++)
        {
            var entry = bytes.Span.Slice(parts[i].Offset, parts[i].Length);
            Rfc6962.LeafHash(entry, leaves.AsSpan(i * H, H));
            if (malformed is null && index * Width + i >= from && EntryShape.Problem(entry) is { } problem)
            {
                malformed = (index * Width + i, problem);
            }
        }

        var tilePath = TilePath.Tile(0, index, count);
        ReadOnlyMemory<byte> tile;
        try
        {
            tile = await log.ReadTileAsync(0, index, count, ct).ConfigureAwait(false);
        }
        catch (VerificationException e)
        {
            return Bundle.Failed(MonitorVerdict.BadTiles, $"{tilePath} cannot be read: {e.Message}");
        }

        return tile.Length == count * H
            ? new Bundle(count, leaves, tile.ToArray(), malformed, null)
            : Bundle.Failed(MonitorVerdict.BadTiles, $"{tilePath} has {tile.Length} bytes, not {count * H}");
    }

    /// <summary>The perfect subtrees [start, start + 2^height) that make up a tree of <paramref name="size"/>, largest first.</summary>
    private static IEnumerable<(long Start, int Height)> RightEdge(long size)
    {
        long start = 0;
        for (var height = 62; height >= 0; height--)
        {
            if (((size >> height) & 1) != 0)
            {
                yield return (start, height);
                start += 1L << height;
            }
        }
    }

    private static int BundleWidth(long bundle, long size) => (int)Math.Min(Width, size - bundle * Width);

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The size and root an untrusted note claims, to name it in a report; null when it is not even a checkpoint.</summary>
    private static MonitoredCheckpoint? Unverified(byte[] note)
    {
        try
        {
            var claimed = Checkpoint.Parse(SignedNote.Parse(note).Text);
            return new MonitoredCheckpoint(claimed.Size, claimed.Root, note);
        }
        catch (FormatViolationException)
        {
            return null;
        }
    }

    /// <summary>One bundle's leaf hashes and level-0 tile, its first malformed new entry, or why it could not be checked.</summary>
    private sealed record Bundle(int Count, byte[] Leaves, byte[] Tile, (long Index, string Problem)? Malformed, (MonitorVerdict Verdict, string Problem)? Failure)
    {
        public static Bundle Failed(MonitorVerdict verdict, string problem) => new(0, [], [], null, (verdict, problem));
    }
}
