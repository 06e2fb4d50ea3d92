using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Tiles;

namespace Sios.Node;

/// <summary>Writes a stored log out as static tlog-tiles files.</summary>
internal static class TileExport
{
    /// <summary>
    /// Exports the tree of the newest signed checkpoint, or with <paramref name="witnessed"/> that of the newest witnessed
    /// one. The checkpoint written carries the witnesses' cosignatures whenever it is the witnessed one.
    /// </summary>
    public static async Task<long> RunAsync(DataFolder data, ILogReader store, string directory, bool witnessed, CancellationToken ct)
    {
        try
        {
            var latest = await store.GetLatestCheckpointAsync(ct).ConfigureAwait(false)
                ?? throw new NodeException("the log has no signed checkpoint yet");
            var cosigned = await NodeWitnessing.ReadKeptAsync(data.WitnessedCheckpointPath, store, data.Config.Origin, data.LoadVerifierKeys(), latest.Size, ct).ConfigureAwait(false);
            if (witnessed && cosigned is null)
            {
                throw new NodeException($"no witnessed checkpoint is kept in {data.WitnessedCheckpointPath} (serve with --witness-policy first)", NodeFailure.Usage);
            }

            var checkpoint = witnessed || cosigned?.Size == latest.Size ? new StoredCheckpoint(cosigned!.Size, cosigned.Note) : latest;
            return await ExportAsync(store, directory, checkpoint, ct).ConfigureAwait(false);
        }
        catch (VerificationException e)
        {
            // A store missing a tile is damaged, not a defect of the program: say so, and point at the audit.
            throw new NodeException($"the stored log is damaged and cannot be exported: {e.Message}; run 'sios log verify' for the full audit", NodeFailure.Invalid);
        }
    }

    private static async Task<long> ExportAsync(ILogReader store, string directory, StoredCheckpoint latest, CancellationToken ct)
    {
        var root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        var source = new StoreLogSource(store);
        var size = latest.Size;
        var bundles = (size + TilePath.FullWidth - 1) / TilePath.FullWidth;
        using (var progress = new ProgressBar(bundles, "bundles"))
        {
            foreach (var tile in TilePath.TilesForSize(size))
            {
                var path = TilePath.Format(tile);
                if (tile.Width < TilePath.FullWidth || !File.Exists(Local(root, path)))
                {
                    Write(root, path, (await source.ReadTileAsync(tile.Level, tile.Index, tile.Width, ct).ConfigureAwait(false)).Span);
                }
            }

            for (long n = 0; n < bundles; n++)
            {
                var width = (int)Math.Min(TilePath.FullWidth, size - n * TilePath.FullWidth);
                var path = TilePath.EntryBundle(n, width);
                if (width < TilePath.FullWidth || !File.Exists(Local(root, path)))
                {
                    Write(root, path, (await source.ReadEntryBundleAsync(n, width, ct).ConfigureAwait(false)).Span);
                }

                progress.Report(n + 1);
            }
        }

        // Last, so a reader of the folder never sees a checkpoint whose tiles are not all there yet.
        Write(root, "checkpoint", latest.Note);
        Notice.Write($"exported {size} entries as tlog-tiles into {root}");
        return size;
    }

    private static string Local(string root, string path) => Path.Combine(root, path.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Writes through a temporary file and a rename, so no reader ever sees half a file.</summary>
    private static void Write(string root, string path, ReadOnlySpan<byte> bytes)
    {
        var file = Local(root, path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, file, overwrite: true);
    }
}
