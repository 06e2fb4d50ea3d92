using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Verify.Audit;

/// <summary>A root the audit must find at a given size (for example every stored checkpoint's).</summary>
/// <param name="Size">Tree size.</param>
/// <param name="Root">The root hash claimed at that size.</param>
/// <param name="Label">How to name it in a report, e.g. "checkpoint at size 10".</param>
public sealed record RootClaim(long Size, byte[] Root, string Label);

/// <summary>The outcome of a whole-log audit.</summary>
/// <param name="Intact">True when every entry, tile and claimed root agrees.</param>
/// <param name="EntriesChecked">Entries hashed.</param>
/// <param name="TilesChecked">Hash tiles compared.</param>
/// <param name="Problem">The first problem found, in words, or null.</param>
/// <param name="BadIndex">The first bad entry index, when the problem is an entry.</param>
/// <param name="BadTile">The first bad tile path, when the problem is a tile.</param>
public sealed record AuditResult(bool Intact, long EntriesChecked, long TilesChecked, string? Problem, long? BadIndex, string? BadTile);

/// <summary>
/// Re-derives a whole log from its entry bundles alone and compares every stored hash tile and every claimed
/// root against that derivation; it trusts nothing the log computed.
/// </summary>
public sealed class LogAuditor(ILogSource source)
{
    private const int Width = TilePath.FullWidth;
    private const int H = Rfc6962.HashSize;

    /// <summary>Bundles read ahead of the one being hashed, so storage reads overlap hashing.</summary>
    private const int ReadAhead = 8;

    /// <summary>Audits the first <paramref name="size"/> entries; <paramref name="claims"/> are checked along the way.</summary>
    public async Task<AuditResult> AuditAsync(long size, IReadOnlyList<RootClaim> claims, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var run = new Run(source, claims, cancellationToken);
        if (run.CheckClaims() is { } early)
        {
            return early;
        }

        var reads = new Queue<Task<Bundle>>();
        long nextRead = 0;
        var bundles = (size + Width - 1) / Width;
        for (long bundle = 0; bundle < bundles; bundle++)
        {
            while (reads.Count < ReadAhead && nextRead < bundles)
            {
                var b = nextRead++;
                reads.Enqueue(Task.Run(() => ReadBundleAsync(b, BundleWidth(b, size), cancellationToken), cancellationToken));
            }

            var read = reads.Dequeue();
            if (await run.BundleAsync(bundle, BundleWidth(bundle, size), read).ConfigureAwait(false) is { } failed)
            {
                return failed;
            }

            progress?.Report(run.Entries);
        }

        return await run.FinishAsync(size).ConfigureAwait(false);
    }

    private static int BundleWidth(long bundle, long size) => (int)Math.Min(Width, size - bundle * Width);

    /// <summary>Reads, splits and leaf-hashes one bundle; runs on the thread pool so reading and hashing use every core.</summary>
    private async Task<Bundle> ReadBundleAsync(long index, int count, CancellationToken ct)
    {
        try
        {
            var bytes = await source.ReadEntryBundleAsync(index, count, ct).ConfigureAwait(false);
            var parts = EntryBundle.Split(bytes.Span, count);
            var leaves = new byte[Width * H];
            for (var i = 0; i < count; i++)
            {
                Rfc6962.LeafHash(bytes.Span.Slice(parts[i].Offset, parts[i].Length), leaves.AsSpan(i * H, H));
            }

            return new Bundle(leaves, null);
        }
        catch (VerificationException e)
        {
            return new Bundle(null, e);
        }
    }

    /// <summary>A bundle's leaf hashes, or why it could not be read.</summary>
    private sealed record Bundle(byte[]? Leaves, VerificationException? Error);

    /// <summary>The state of one audit: recomputed tiles per level, the streaming root, the first mismatch.</summary>
    private sealed class Run(ILogSource source, IReadOnlyList<RootClaim> claims, CancellationToken ct)
    {
        private readonly Queue<RootClaim> _pending = new(claims.OrderBy(c => c.Size));
        private readonly MerkleAccumulator _accumulator = new();
        private readonly List<byte[]> _levels = [[]]; // level 0 arrives bundle by bundle, already hashed
        private readonly List<int> _fill = [0]; // hashes held per level; level 0 is compared bundle by bundle instead
        private readonly byte[] _tileRoot = new byte[H];
        private readonly byte[] _work = new byte[Width * H];
        private string? _mismatchTile;
        private long? _mismatchEntry;

        public long Entries { get; private set; }

        public long Tiles { get; private set; }

        public async Task<AuditResult?> BundleAsync(long bundle, int count, Task<Bundle> read)
        {
            var path = TilePath.EntryBundle(bundle, count);
            var result = await read.ConfigureAwait(false);
            if (result.Error is MalformedBundleException malformed)
            {
                var index = bundle * Width + malformed.Position;
                return Fail($"entry {index} is missing or damaged ({path}: {malformed.Message})", index, path);
            }

            if (result.Leaves is not { } leaves)
            {
                return Fail($"{path} is missing or damaged: {result.Error?.Message}", bundle * Width, path);
            }

            // Compare the level-0 tile before checking roots, so a root failure can name the entry at fault.
            if (await CompareAsync(0, bundle, leaves, count).ConfigureAwait(false) is { } missing)
            {
                return missing;
            }

            var start = bundle * Width;
            var claimInside = _pending.Count > 0 && _pending.Peek().Size < start + count;
            if (count == Width && !claimInside)
            {
                // A full tile is a perfect subtree: one push of its root instead of 256 leaf pushes.
                TileRoot(leaves, _tileRoot);
                _accumulator.Push(_tileRoot, 8);
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    _accumulator.Push(leaves.AsSpan(i * H, H));
                    if (CheckClaims() is { } failed)
                    {
                        return failed;
                    }
                }

                if (count == Width)
                {
                    TileRoot(leaves, _tileRoot);
                }
            }

            Entries += count;
            if (CheckClaims() is { } atBoundary)
            {
                return atBoundary;
            }

            return count == Width ? await AppendAsync(1, bundle >> 8, _tileRoot).ConfigureAwait(false) : null;
        }

        public async Task<AuditResult> FinishAsync(long size)
        {
            for (var level = 1; level < _levels.Count; level++)
            {
                if (_fill[level] > 0 && await CompareAsync(level, size >> (8 * (level + 1)), _levels[level], _fill[level]).ConfigureAwait(false) is { } bad)
                {
                    return bad;
                }
            }

            if (_pending.Count > 0)
            {
                return Fail($"the {_pending.Peek().Label} is beyond the audited log (size {Entries})", null, null);
            }

            if (_mismatchTile is not null)
            {
                // Every claimed root matched the entries, so the entries are authentic and the tile is what was altered.
                return Fail($"{_mismatchTile} was altered: it disagrees with the entries, which match every signed root", null, _mismatchTile);
            }

            return new AuditResult(true, Entries, Tiles, null, null, null);
        }

        public AuditResult? CheckClaims()
        {
            while (_pending.Count > 0 && _pending.Peek().Size <= _accumulator.Size)
            {
                var claim = _pending.Dequeue();
                if (claim.Size == _accumulator.Size && !_accumulator.Root().AsSpan().SequenceEqual(claim.Root))
                {
                    // Entries disagree with a signed root: if a tile already disagreed at an entry, that entry is the culprit.
                    return _mismatchEntry is { } entry
                        ? Fail($"entry {entry} was altered or is out of place: it does not hash to {_mismatchTile}, and the entries no longer give the root of the {claim.Label}", entry, _mismatchTile)
                        : Fail($"the entries up to size {_accumulator.Size} do not give the root of the {claim.Label}", null, _mismatchTile);
                }
            }

            return null;
        }

        /// <summary>Adds the hash of a full tile below to the tile at <paramref name="level"/>, checking and folding it when it fills.</summary>
        private async Task<AuditResult?> AppendAsync(int level, long index, byte[] hash)
        {
            if (_levels.Count == level)
            {
                _levels.Add(new byte[Width * H]);
                _fill.Add(0);
            }

            hash.CopyTo(_levels[level], _fill[level] * H);
            _fill[level]++;
            if (_fill[level] < Width)
            {
                return null;
            }

            if (await CompareAsync(level, index, _levels[level], Width).ConfigureAwait(false) is { } bad)
            {
                return bad;
            }

            _fill[level] = 0;
            var root = new byte[H];
            TileRoot(_levels[level], root);
            return await AppendAsync(level + 1, index >> 8, root).ConfigureAwait(false);
        }

        private async Task<AuditResult?> CompareAsync(int level, long index, byte[] computed, int width)
        {
            var path = TilePath.Tile(level, index, width);
            Tiles++;
            ReadOnlyMemory<byte> stored;
            try
            {
                stored = await source.ReadTileAsync(level, index, width, ct).ConfigureAwait(false);
            }
            catch (VerificationException e)
            {
                return Fail($"{path} is missing or damaged: {e.Message}", null, path);
            }

            var mine = computed.AsSpan(0, width * H);
            if (stored.Length != mine.Length)
            {
                return Fail($"{path} has {stored.Length} bytes, not {mine.Length}", null, path);
            }

            if (!mine.SequenceEqual(stored.Span) && _mismatchTile is null)
            {
                // A level-0 mismatch is either an altered entry or an altered tile; the roots decide which.
                var i = 0;
                while (mine.Slice(i * H, H).SequenceEqual(stored.Span.Slice(i * H, H)))
                {
                    i++;
                }

                _mismatchTile = path;
                _mismatchEntry = level == 0 ? index * Width + i : null;
            }

            return null;
        }

        /// <summary>Hashes a full tile's 256 hashes up eight levels into its Merkle Tree Hash.</summary>
        private void TileRoot(byte[] tile, Span<byte> destination)
        {
            tile.AsSpan(0, Width * H).CopyTo(_work);
            for (var n = Width; n > 1; n /= 2)
            {
                for (var i = 0; i < n / 2; i++)
                {
                    Rfc6962.NodeHash(_work.AsSpan(2 * i * H, H), _work.AsSpan((2 * i + 1) * H, H), _work.AsSpan(i * H, H));
                }
            }

            _work.AsSpan(0, H).CopyTo(destination);
        }

        private AuditResult Fail(string problem, long? index, string? tile) => new(false, Entries, Tiles, problem, index, tile);
    }
}
