using CsCheck;
using Sios.Ledger.Merkle;
using Sios.Ledger.Storage;
using Sios.Tests.Shared;
using Sios.Tests.Support;
using Sios.Verify;
using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Tests.Merkle;

public class TreeBuilderTests
{
    [VectorFact]
    public async Task Rfc6962_reference_roots()
    {
        var (leaves, roots) = NaiveMerkle.ReadReferenceTable(Vectors.PathOf("README.md"));
        Assert.Equal(8, leaves.Count);
        Assert.Equal(Enumerable.Range(0, 9), roots.Keys.Order());
        var builder = TreeBuilder.Empty();
        var store = new Dictionary<(int Level, long Index), byte[]>();
        Assert.Equal(roots[0], builder.Root());
        for (var size = 1; size <= 8; size++)
        {
            Apply(store, builder.Append([NaiveMerkle.LeafHash(leaves[size - 1])]));
            Assert.Equal(roots[size], builder.Root());
            Assert.Equal(roots[size], await new TiledTree(new MemoryTileSource(store), size).RootAsync());
            Assert.Equal(roots[size], (await TreeBuilder.LoadAsync(size, new MemoryTileSource(store))).Root());
        }
    }

    [Fact]
    public void Batched_appends_match_the_definitions()
    {
        Gen.Select(Gen.Int[0, 3000], Gen.Int, Gen.Int).Sample((size, seed, split) =>
        {
            var tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, size));
            BuildChecked(tree, TreeBuilder.Empty(), 0, RandomBatches(0, size, new Random(split)), new Dictionary<(int, long), byte[]>());
        }, iter: 60);
    }

    [Fact]
    public async Task Loading_at_any_size_then_appending_equals_building_at_once()
    {
        await Gen.Select(Gen.Int[1, 3000], Gen.Int, Gen.Int).SampleAsync(async (size, seed, pick) =>
        {
            var random = new Random(pick);
            var tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, size));
            var loadAt = random.Next(size + 1);
            var batches = RandomBatches(loadAt, size, random);

            var straight = TreeBuilder.Empty();
            var store = new Dictionary<(int Level, long Index), byte[]>();
            Apply(store, straight.Append(tree.Leaves.Take(loadAt).ToList()));
            var source = new MemoryTileSource(store);
            var loaded = await TreeBuilder.LoadAsync(loadAt, source);
            Assert.Equal(loadAt, loaded.Size);
            Assert.Equal(straight.Root(), loaded.Root());
            Assert.All(source.Reads, read => Assert.Equal(TilePath.PartialWidth(read.Level, loadAt), read.Width));

            // Same writes, batch by batch, as the builder that never stopped.
            foreach (var (start, end) in batches)
            {
                var batch = tree.Leaves.Skip((int)start).Take((int)(end - start)).ToList();
                var expected = straight.Append(batch);
                var actual = loaded.Append(batch);
                Assert.Equal(expected.Select(Key), actual.Select(Key));
                Assert.Equal(expected.Select(w => w.Hashes), actual.Select(w => w.Hashes));
                Assert.Equal(straight.Root(), loaded.Root());
            }

            Assert.Equal(tree.Mth(0, size), loaded.Root());
        }, iter: 60);
    }

    [Fact]
    public async Task Trees_beyond_two_tile_levels()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(9, 140_000));
        var random = new Random(9);
        var store = new Dictionary<(int Level, long Index), byte[]>();
        var builder = TreeBuilder.Empty();
        long size = 0;
        foreach (var target in new long[] { 65_535, 65_536, 65_537, 70_000, 131_072, 140_000 })
        {
            BuildChecked(tree, builder, size, RandomBatches(size, target, random, maxBatch: 20_000, largeOneIn: 1), store);
            size = target;

            var tiled = new TiledTree(new MemoryTileSource(store), size);
            var root = tree.Mth(0, size);
            Assert.Equal(root, await tiled.RootAsync());
            for (var probe = 0; probe < 5; probe++)
            {
                var index = random.NextInt64(size);
                var path = await tiled.InclusionProofAsync(index);
                Assert.Equal(tree.Path(index, size), path);
                MerkleProofs.VerifyInclusion(index, size, tree.Leaves[(int)index], path, root);
                var m = 1 + random.NextInt64(size);
                var proof = await tiled.ConsistencyProofAsync(m);
                Assert.Equal(tree.Proof(m, size), proof);
                MerkleProofs.VerifyConsistency(m, size, proof, tree.Mth(0, m), root);
            }

            var loaded = await TreeBuilder.LoadAsync(size, new MemoryTileSource(store));
            Assert.Equal(root, loaded.Root());
        }
    }

    [Fact]
    public async Task Tiled_tree_over_the_builders_tiles_matches_the_definitions()
    {
        await Gen.Select(Gen.Int[1, 3000], Gen.Int, Gen.Int).SampleAsync(async (size, seed, pick) =>
        {
            var random = new Random(pick);
            var tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, size));
            var store = new Dictionary<(int Level, long Index), byte[]>();
            var builder = TreeBuilder.Empty();
            foreach (var (start, end) in RandomBatches(0, size, random))
            {
                Apply(store, builder.Append(tree.Leaves.Skip((int)start).Take((int)(end - start)).ToList()));
            }

            var tiled = new TiledTree(new MemoryTileSource(store), size);
            var root = tree.Mth(0, size);
            Assert.Equal(root, await tiled.RootAsync());
            var index = random.NextInt64(size);
            var path = await tiled.InclusionProofAsync(index);
            Assert.Equal(tree.Path(index, size), path);
            MerkleProofs.VerifyInclusion(index, size, tree.Leaves[(int)index], path, root);
            var m = 1 + random.NextInt64(size);
            var proof = await tiled.ConsistencyProofAsync(m);
            Assert.Equal(tree.Proof(m, size), proof);
            MerkleProofs.VerifyConsistency(m, size, proof, tree.Mth(0, m), root);
        }, iter: 60);
    }

    [Fact]
    public void Empty_builder_and_empty_batches()
    {
        var builder = TreeBuilder.Empty();
        Assert.Equal(0, builder.Size);
        Assert.Equal(Rfc6962.EmptyRoot.ToArray(), builder.Root());
        Assert.Empty(builder.Append([]));
        Assert.Equal(0, builder.Size);
    }

    [Fact]
    public void A_bad_leaf_hash_is_rejected_before_anything_is_appended()
    {
        var builder = TreeBuilder.Empty();
        builder.Append(NaiveMerkle.RandomLeaves(10, 3));
        var root = builder.Root();
        var batch = NaiveMerkle.RandomLeaves(11, 3);
        batch[2] = batch[2][..31];
        var error = Assert.Throws<ArgumentException>(() => builder.Append(batch));
        Assert.Contains("leaf hash 2", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => builder.Append([null!]));
        Assert.Equal(3, builder.Size);
        Assert.Equal(root, builder.Root());
    }

    [Fact]
    public async Task Loading_from_a_tile_of_the_wrong_length_names_the_tile()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(12, 300));
        var tiles = tree.Tiles(300);
        tiles[(1, 0)] = [];
        var error = await Assert.ThrowsAsync<VerificationException>(async () => await TreeBuilder.LoadAsync(300, new MemoryTileSource(tiles)));
        Assert.Contains("tile/1/000.p/1", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await TreeBuilder.LoadAsync(-1, new MemoryTileSource(tiles)));
        Assert.Equal(Rfc6962.EmptyRoot.ToArray(), (await TreeBuilder.LoadAsync(0, new MemoryTileSource(tiles))).Root());
    }

    // Appends the batches, checking after each one: the root, that the writes are exactly the tiles whose
    // content changed (each once, whole), and that the store then holds exactly the naive tiles.
    private static void BuildChecked(NaiveTree tree, TreeBuilder builder, long from, List<(long Start, long End)> batches, Dictionary<(int Level, long Index), byte[]> store)
    {
        var before = tree.Tiles(from);
        foreach (var (start, end) in batches)
        {
            var writes = builder.Append(tree.Leaves.Skip((int)start).Take((int)(end - start)).ToList());
            Assert.Equal(end, builder.Size);
            Assert.Equal(tree.Mth(0, end), builder.Root());

            var after = tree.Tiles(end);
            var changed = after.Where(t => !before.TryGetValue(t.Key, out var old) || !old.AsSpan().SequenceEqual(t.Value)).Select(t => t.Key).ToHashSet();
            Assert.Equal(changed.Count, writes.Count);
            Assert.Equal(changed, writes.Select(Key).ToHashSet());
            Assert.All(writes, w => Assert.InRange(w.Hashes.Length, 32, 256 * 32));
            Apply(store, writes);
            Assert.Equal(after.Keys.ToHashSet(), store.Keys.ToHashSet());
            Assert.All(after, t => Assert.Equal(t.Value, store[t.Key]));
            before = after;
        }
    }

    private static List<(long Start, long End)> RandomBatches(long from, long to, Random random, int maxBatch = 700, int largeOneIn = 4)
    {
        var batches = new List<(long, long)>();
        while (from < to)
        {
            // Mostly small batches, some crossing several tiles at once.
            var length = random.Next(largeOneIn) == 0 ? random.Next(1, maxBatch) : random.Next(1, 20);
            var end = Math.Min(to, from + length);
            batches.Add((from, end));
            from = end;
        }

        return batches;
    }

    private static void Apply(Dictionary<(int Level, long Index), byte[]> store, IReadOnlyList<TileWrite> writes)
    {
        foreach (var write in writes)
        {
            store[(write.Level, write.Index)] = write.Hashes;
        }
    }

    private static (int, long) Key(TileWrite write) => (write.Level, write.Index);
}
