using Sios.Verify.Tiles;

namespace Sios.Verify.Audit;

/// <summary>Where an auditor reads a log from: hash tiles and entry bundles, as tlog-tiles serves them.</summary>
public interface ILogSource : IHashTileSource
{
    /// <summary>
    /// Returns entry bundle <paramref name="index"/> holding its first <paramref name="width"/> entries, each
    /// prefixed by its big-endian uint16 length.
    /// </summary>
    ValueTask<ReadOnlyMemory<byte>> ReadEntryBundleAsync(long index, int width, CancellationToken cancellationToken);
}
