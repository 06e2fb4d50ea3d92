namespace Sios.Verify.Tiles;

/// <summary>The address of one tlog-tiles resource: a hash tile or an entry bundle.</summary>
/// <param name="IsEntryBundle">True for an entry bundle (<c>tile/entries/...</c>), whose <paramref name="Level"/> is 0.</param>
/// <param name="Level">Tile level, 0 to 63 (0 holds leaf hashes).</param>
/// <param name="Index">Index of the tile within its level.</param>
/// <param name="Width">Number of hashes or entries: <see cref="TilePath.FullWidth"/> for a full tile, 1 to 255 for a partial one.</param>
public readonly record struct TileAddress(bool IsEntryBundle, int Level, long Index, int Width);
