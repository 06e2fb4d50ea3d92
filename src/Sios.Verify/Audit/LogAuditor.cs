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

    /// <summary>Audits the first <paramref name="size"/> entries; <paramref name="claims"/> are checked along the way.</summary>
    public async Task<AuditResult> AuditAsync(long size, IReadOnlyList<RootClaim> claims, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var pending = new Queue<RootClaim>(claims.OrderBy(c => c.Size));
        var state = new State();
        var accumulator = new MerkleAccumulator();
        var levels = new List<byte[]> { new byte[Width * H] };
        var fill = new List<int> { 0 };
        var leaf = new byte[H];

        if (CheckClaims(pending, accumulator, state) is { } early)
        {
            return early;
        }

        for (long bundle = 0; bundle * Width < size; bundle++)
        {
            var count = (int)Math.Min(Width, size - bundle * Width);
            var bundlePath = TilePath.EntryBundle(bundle, count == Width ? Width : count);
            ReadOnlyMemory<byte> bytes;
            (int Offset, int Length)[] parts;
            try
            {
                bytes = await source.ReadEntryBundleAsync(bundle, count, cancellationToken).ConfigureAwait(false);
                parts = EntryBundle.Split(bytes.Span, count);
            }
            catch (MalformedBundleException e)
            {
                var index = bundle * Width + e.Position;
                return state.Fail($"entry {index} is missing or damaged ({bundlePath}: {e.Message})", index, bundlePath);
            }
            catch (VerificationException e)
            {
                return state.Fail($"{bundlePath} is missing or damaged: {e.Message}", bundle * Width, bundlePath);
            }

            for (var i = 0; i < count; i++)
            {
                Rfc6962.LeafHash(bytes.Span.Slice(parts[i].Offset, parts[i].Length), levels[0].AsSpan(i * H, H));
            }

            // Compare the level-0 tile before checking roots, so a root failure can name the entry at fault.
            if (await CompareAsync(0, bundle, levels[0], count, state, cancellationToken).ConfigureAwait(false) is { } missing)
            {
                return missing;
            }

            for (var i = 0; i < count; i++)
            {
                accumulator.Push(levels[0].AsSpan(i * H, H));
                if (CheckClaims(pending, accumulator, state) is { } failed)
                {
                    return failed;
                }
            }

            state.Entries += count;
            fill[0] = count;
            if (count == Width && await FoldAsync(0, bundle, levels, fill, state, cancellationToken).ConfigureAwait(false) is { } bad)
            {
                return bad;
            }

            progress?.Report(state.Entries);
        }

        for (var level = 1; level < levels.Count; level++)
        {
            if (fill[level] > 0 && await CompareAsync(level, size >> (8 * (level + 1)), levels[level], fill[level], state, cancellationToken).ConfigureAwait(false) is { } bad)
            {
                return bad;
            }
        }

        return state.Result(pending);
    }

    /// <summary>Folds a full tile at <paramref name="level"/> into the tile above, comparing each tile above as it fills.</summary>
    private async Task<AuditResult?> FoldAsync(int level, long index, List<byte[]> levels, List<int> fill, State state, CancellationToken ct)
    {
        if (levels.Count == level + 1)
        {
            levels.Add(new byte[Width * H]);
            fill.Add(0);
        }

        TileRoot(levels[level], levels[level + 1].AsSpan(fill[level + 1] * H, H));
        fill[level] = 0;
        fill[level + 1]++;
        if (fill[level + 1] < Width)
        {
            return null;
        }

        return await CompareAsync(level + 1, index >> 8, levels[level + 1], Width, state, ct).ConfigureAwait(false)
            ?? await FoldAsync(level + 1, index >> 8, levels, fill, state, ct).ConfigureAwait(false);
    }

    private async Task<AuditResult?> CompareAsync(int level, long index, byte[] computed, int width, State state, CancellationToken ct)
    {
        var path = TilePath.Tile(level, index, width);
        state.Tiles++;
        ReadOnlyMemory<byte> stored;
        try
        {
            stored = await source.ReadTileAsync(level, index, width, ct).ConfigureAwait(false);
        }
        catch (VerificationException e)
        {
            return state.Fail($"{path} is missing or damaged: {e.Message}", null, path);
        }

        for (var i = 0; i < width; i++)
        {
            if (!computed.AsSpan(i * H, H).SequenceEqual(stored.Span.Slice(i * H, H)))
            {
                // A level-0 mismatch is either an altered entry or an altered tile; the final root decides which.
                long? entry = level == 0 ? index * Width + i : null;
                state.Mismatch(path, entry);
                return null;
            }
        }

        return null;
    }

    private static AuditResult? CheckClaims(Queue<RootClaim> pending, MerkleAccumulator accumulator, State state)
    {
        while (pending.Count > 0 && pending.Peek().Size <= accumulator.Size)
        {
            var claim = pending.Dequeue();
            if (claim.Size == accumulator.Size && !accumulator.Root().AsSpan().SequenceEqual(claim.Root))
            {
                return state.RootFailure(claim, accumulator.Size);
            }
        }

        return null;
    }

    /// <summary>Hashes a full tile's 256 hashes up eight levels into its Merkle Tree Hash.</summary>
    private static void TileRoot(byte[] tile, Span<byte> destination)
    {
        var work = new byte[Width * H];
        tile.CopyTo(work, 0);
        for (var n = Width; n > 1; n /= 2)
        {
            for (var i = 0; i < n / 2; i++)
            {
                Rfc6962.NodeHash(work.AsSpan(2 * i * H, H), work.AsSpan((2 * i + 1) * H, H), work.AsSpan(i * H, H));
            }
        }

        work.AsSpan(0, H).CopyTo(destination);
    }

    private sealed class State
    {
        public long Entries;
        public long Tiles;
        private string? _mismatchTile;
        private long? _mismatchEntry;

        public void Mismatch(string tile, long? entry)
        {
            if (_mismatchTile is null)
            {
                _mismatchTile = tile;
                _mismatchEntry = entry;
            }
        }

        public AuditResult Fail(string problem, long? index, string? tile) => new(false, Entries, Tiles, problem, index, tile);

        public AuditResult RootFailure(RootClaim claim, long size)
        {
            // Entries disagree with a signed root: if a tile already disagreed at an entry, that entry is the culprit.
            if (_mismatchEntry is { } entry)
            {
                return Fail($"entry {entry} was altered or is out of place: it does not hash to {_mismatchTile}, and the entries no longer give the root of the {claim.Label}", entry, _mismatchTile);
            }

            return Fail($"the entries up to size {size} do not give the root of the {claim.Label}", _mismatchEntry, _mismatchTile);
        }

        public AuditResult Result(Queue<RootClaim> pending)
        {
            if (pending.Count > 0)
            {
                var claim = pending.Peek();
                return Fail($"the {claim.Label} is beyond the audited log (size {Entries})", null, null);
            }

            if (_mismatchTile is not null)
            {
                // Every claimed root matched the entries, so the entries are authentic and the tile is what was altered.
                return Fail($"{_mismatchTile} was altered: it disagrees with the entries, which match every signed root", null, _mismatchTile);
            }

            return new AuditResult(true, Entries, Tiles, null, null, null);
        }
    }
}
