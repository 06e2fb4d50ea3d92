using CsCheck;
using Sios.Tests.Shared;
using Sios.Tests.Support;
using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Verify.Tests.Tiles;

public class TiledTreeTests
{
    [VectorFact]
    public async Task Rfc6962_reference_roots_from_naive_tiles()
    {
        var (leaves, roots) = NaiveMerkle.ReadReferenceTable(Vectors.PathOf("README.md"));
        Assert.Equal(8, leaves.Count);
        Assert.Equal(Enumerable.Range(0, 9), roots.Keys.Order());
        var tree = new NaiveTree(leaves.Select(NaiveMerkle.LeafHash).ToList());
        foreach (var (size, expected) in roots)
        {
            Assert.Equal(expected, tree.Mth(0, size));
            var tiled = new TiledTree(new MemoryTileSource(tree.Tiles(size)), size);
            Assert.Equal(expected, await tiled.RootAsync());
        }
    }

    [Fact]
    public async Task Root_proofs_and_ranges_match_the_definitions()
    {
        await Gen.Select(Gen.Int[1, 3000], Gen.Int, Gen.Int).SampleAsync(async (size, seed, pick) =>
        {
            var tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, size));
            await CheckAgainstNaiveAsync(tree, size, new Random(pick), probes: 3);
        }, iter: 100);
    }

    [Fact]
    public async Task Every_proof_of_small_trees_matches_the_definitions()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(5, 600));
        foreach (var size in Enumerable.Range(1, 70).Concat([255, 256, 257, 511, 512, 513, 600]))
        {
            var source = new MemoryTileSource(tree.Tiles(size));
            var tiled = new TiledTree(source, size);
            var root = tree.Mth(0, size);
            Assert.Equal(root, await tiled.RootAsync());
            for (long i = 0; i < size; i++)
            {
                var proof = await tiled.InclusionProofAsync(i);
                Assert.Equal(tree.Path(i, size), proof);
                MerkleProofs.VerifyInclusion(i, size, tree.Leaves[(int)i], proof, root);
            }

            for (long m = 1; m <= size; m++)
            {
                var proof = await tiled.ConsistencyProofAsync(m);
                Assert.Equal(tree.Proof(m, size), proof);
                MerkleProofs.VerifyConsistency(m, size, proof, tree.Mth(0, m), root);
            }

            AssertReadsAreExistingTilesOnce(source, size);
        }
    }

    [Fact]
    public async Task Trees_beyond_two_tile_levels()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(6, 140_000));
        var random = new Random(6);
        foreach (var size in new long[] { 65_535, 65_536, 65_537, 70_000, 131_072, 140_000 })
        {
            await CheckAgainstNaiveAsync(tree, size, random, probes: 8);
        }
    }

    [Fact]
    public async Task Empty_tree_has_the_empty_root_and_reads_nothing()
    {
        var source = new MemoryTileSource(new Dictionary<(int, long), byte[]>());
        var tiled = new TiledTree(source, 0);
        Assert.Equal(Rfc6962.EmptyRoot.ToArray(), await tiled.RootAsync());
        Assert.Equal(Rfc6962.EmptyRoot.ToArray(), await tiled.RangeHashAsync(0, 0));
        Assert.Empty(source.Reads);
    }

    [Fact]
    public async Task A_tile_of_the_wrong_length_is_named_in_the_error()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(7, 300));
        var tiles = tree.Tiles(300);
        tiles[(0, 1)] = tiles[(0, 1)][..^32];
        var error = await Assert.ThrowsAsync<VerificationException>(async () => await new TiledTree(new MemoryTileSource(tiles), 300).RootAsync());
        Assert.Contains("tile/0/001.p/44", error.Message, StringComparison.Ordinal);

        tiles = tree.Tiles(300);
        tiles.Remove((0, 0));
        error = await Assert.ThrowsAsync<VerificationException>(async () => await new TiledTree(new MemoryTileSource(tiles), 300).InclusionProofAsync(5));
        Assert.Contains("tile/0/000 ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_arguments_are_rejected()
    {
        var tree = new NaiveTree(NaiveMerkle.RandomLeaves(8, 10));
        var tiled = new TiledTree(new MemoryTileSource(tree.Tiles(10)), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TiledTree(new MemoryTileSource(tree.Tiles(10)), -1));
        Assert.Throws<ArgumentNullException>(() => new TiledTree(null!, 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.InclusionProofAsync(10));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.InclusionProofAsync(-1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.ConsistencyProofAsync(0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.ConsistencyProofAsync(11));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.RangeHashAsync(-1, 2));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.RangeHashAsync(3, 2));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await tiled.RangeHashAsync(0, 11));
        Assert.Empty(await tiled.ConsistencyProofAsync(10));
    }

    private static async Task CheckAgainstNaiveAsync(NaiveTree tree, long size, Random random, int probes)
    {
        var source = new MemoryTileSource(tree.Tiles(size));
        var tiled = new TiledTree(source, size);
        var root = tree.Mth(0, size);
        Assert.Equal(size, tiled.Size);
        Assert.Equal(root, await tiled.RootAsync());
        for (var probe = 0; probe < probes; probe++)
        {
            var index = random.NextInt64(size);
            var path = await tiled.InclusionProofAsync(index);
            Assert.Equal(tree.Path(index, size), path);
            MerkleProofs.VerifyInclusion(index, size, tree.Leaves[(int)index], path, root);

            var m = 1 + random.NextInt64(size);
            var proof = await tiled.ConsistencyProofAsync(m);
            Assert.Equal(tree.Proof(m, size), proof);
            MerkleProofs.VerifyConsistency(m, size, proof, tree.Mth(0, m), root);

            // Any range, aligned or not (short ones when unaligned, as those need every leaf hash).
            var start = random.NextInt64(size + 1);
            var end = start + random.NextInt64(Math.Min(size - start, 600) + 1);
            Assert.Equal(tree.Mth(start, end), await tiled.RangeHashAsync(start, end));
        }

        AssertReadsAreExistingTilesOnce(source, size);
    }

    private static void AssertReadsAreExistingTilesOnce(MemoryTileSource source, long size)
    {
        var existing = TilePath.TilesForSize(size).ToHashSet();
        var reads = source.Reads.ToList();
        Assert.All(reads, read => Assert.Contains(read, existing));
        Assert.Equal(reads.Count, reads.Select(r => (r.Level, r.Index)).Distinct().Count());
    }
}
