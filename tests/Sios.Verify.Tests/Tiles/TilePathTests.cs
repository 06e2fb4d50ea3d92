using CsCheck;
using Sios.Verify.Tiles;

namespace Sios.Verify.Tests.Tiles;

public class TilePathTests
{
    [Theory]
    [InlineData(0, 1234067L, 256, "tile/0/x001/x234/067")]
    [InlineData(0, 1234067L, 5, "tile/0/x001/x234/067.p/5")]
    [InlineData(1, 0L, 256, "tile/1/000")]
    [InlineData(2, 999L, 1, "tile/2/999.p/1")]
    [InlineData(3, 1000L, 255, "tile/3/x001/000.p/255")]
    [InlineData(63, long.MaxValue, 256, "tile/63/x009/x223/x372/x036/x854/x775/807")]
    public void Tile_formats_as_the_spec_says(int level, long index, int width, string expected)
    {
        Assert.Equal(expected, TilePath.Tile(level, index, width));
        Assert.True(TilePath.TryParse(expected, out var parsed));
        Assert.Equal(new TileAddress(false, level, index, width), parsed);
    }

    [Theory]
    [InlineData(1234067L, 256, "tile/entries/x001/x234/067")]
    [InlineData(0L, 17, "tile/entries/000.p/17")]
    public void Entry_bundle_formats_as_the_spec_says(long index, int width, string expected)
    {
        Assert.Equal(expected, TilePath.EntryBundle(index, width));
        Assert.True(TilePath.TryParse(expected, out var parsed));
        Assert.Equal(new TileAddress(true, 0, index, width), parsed);
    }

    [Fact]
    public void Format_and_parse_round_trip()
    {
        Gen.Select(Gen.Bool, Gen.Int[0, TilePath.MaxLevel], Gen.OneOf(Gen.Long[0, 2_000_000], Gen.Long[0, long.MaxValue]), Gen.Int[1, 256])
            .Sample((entries, level, index, width) =>
            {
                var address = new TileAddress(entries, entries ? 0 : level, index, width);
                var path = TilePath.Format(address);
                Assert.True(TilePath.TryParse(path, out var parsed), path);
                Assert.Equal(address, parsed);
                Assert.Equal(path, TilePath.Format(parsed));
            }, iter: 5_000);
    }

    [Theory]
    [InlineData("")]
    [InlineData("tile/0")]
    [InlineData("tile/entries")]
    [InlineData("/tile/0/000")]
    [InlineData("tiles/0/000")]
    [InlineData("tile/0/000/")]
    [InlineData("tile//000")]
    [InlineData("tile/00/000")]
    [InlineData("tile/01/000")]
    [InlineData("tile/64/000")]
    [InlineData("tile/-1/000")]
    [InlineData("tile/+1/000")]
    [InlineData("tile/ 1/000")]
    [InlineData("tile/0/0")]
    [InlineData("tile/0/00")]
    [InlineData("tile/0/0000")]
    [InlineData("tile/0/1234067")]
    [InlineData("tile/0/x000/001")]
    [InlineData("tile/0/x000/x001/002")]
    [InlineData("tile/0/001/234")]
    [InlineData("tile/0/x001/x234")]
    [InlineData("tile/0/X001/234")]
    [InlineData("tile/0/x01/234")]
    [InlineData("tile/0/x0001/234")]
    [InlineData("tile/0/x00a/234")]
    [InlineData("tile/0/\u0660\u0660\u0661")]
    [InlineData("tile/0/001.p")]
    [InlineData("tile/0/001.p/")]
    [InlineData("tile/0/001.p/0")]
    [InlineData("tile/0/001.p/00")]
    [InlineData("tile/0/001.p/05")]
    [InlineData("tile/0/001.p/256")]
    [InlineData("tile/0/001.p/1000")]
    [InlineData("tile/0/001.p/5/6")]
    [InlineData("tile/0/001.p/5.p/6")]
    [InlineData("tile/0/001.P/5")]
    [InlineData("tile/0/001.p/-5")]
    [InlineData("tile/entries/001.p/256")]
    [InlineData("tile/entries/x000/001")]
    [InlineData("tile/0/x009/x223/x372/x036/x854/x775/808")]
    [InlineData("tile/0/x001/x000/x000/x000/x000/x000/x000/000")]
    public void Malformed_paths_are_rejected(string path)
    {
        Assert.False(TilePath.TryParse(path, out var address));
        Assert.Equal(default, address);
    }

    [Fact]
    public void Formatting_rejects_out_of_range_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.Tile(-1, 0, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.Tile(64, 0, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.Tile(0, -1, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.Tile(0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.Tile(0, 0, 257));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.EntryBundle(-1, 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => TilePath.PartialWidth(0, -1));
    }

    [Fact]
    public void Size_70000_has_the_tiles_the_spec_lists()
    {
        var tiles = TilePath.TilesForSize(70_000).ToList();
        Assert.Equal(273, tiles.Count(t => t is { Level: 0, Width: 256 }));
        Assert.Equal(Enumerable.Range(0, 273).Select(i => (long)i), tiles.Where(t => t is { Level: 0, Width: 256 }).Select(t => t.Index));
        Assert.Contains(new TileAddress(false, 0, 273, 112), tiles);
        Assert.Contains(new TileAddress(false, 1, 0, 256), tiles);
        Assert.Contains(new TileAddress(false, 1, 1, 17), tiles);
        Assert.Contains(new TileAddress(false, 2, 0, 1), tiles);
        Assert.Equal(273 + 1 + 1 + 1 + 1, tiles.Count);
        Assert.Equal(112, TilePath.PartialWidth(0, 70_000));
        Assert.Equal(17, TilePath.PartialWidth(1, 70_000));
        Assert.Equal(1, TilePath.PartialWidth(2, 70_000));
        Assert.Equal(0, TilePath.PartialWidth(3, 70_000));
    }

    [Fact]
    public void Size_256_has_a_full_level_0_tile_and_a_partial_level_1_tile()
    {
        Assert.Equal([new TileAddress(false, 0, 0, 256), new TileAddress(false, 1, 0, 1)], TilePath.TilesForSize(256));
        Assert.Equal(0, TilePath.PartialWidth(0, 256));
    }

    [Fact]
    public void Small_and_extreme_sizes()
    {
        Assert.Empty(TilePath.TilesForSize(0));
        Assert.Equal([new TileAddress(false, 0, 0, 1)], TilePath.TilesForSize(1));
        Assert.Equal([new TileAddress(false, 0, 0, 255)], TilePath.TilesForSize(255));
        Assert.Equal(127, TilePath.PartialWidth(7, long.MaxValue));
        Assert.Equal(0, TilePath.PartialWidth(8, long.MaxValue));
        Assert.Equal(0, TilePath.PartialWidth(63, long.MaxValue));
        Assert.Equal(0, TilePath.FullTileCount(7, long.MaxValue));
        Assert.Equal(long.MaxValue >> 8, TilePath.FullTileCount(0, long.MaxValue));
    }

    [Fact]
    public void Tiles_for_size_match_the_definition()
    {
        // A level-l tile n exists, full, when (n + 1) * 256^(l+1) <= s; otherwise its width is the count of whole
        // 256^l spans left, if any.
        Gen.Long[0, 2_000_000].Sample(size =>
        {
            var expected = new List<TileAddress>();
            long span = 1;
            for (var level = 0; span <= size; level++, span *= 256)
            {
                var hashes = size / span;
                for (long n = 0; n * 256 < hashes; n++)
                {
                    expected.Add(new TileAddress(false, level, n, (int)Math.Min(256, hashes - (n * 256))));
                }
            }

            Assert.Equal(expected, TilePath.TilesForSize(size));
        }, iter: 300);
    }
}
