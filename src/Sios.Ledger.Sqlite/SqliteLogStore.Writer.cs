using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Sqlite;

// The writer side of the SQLite store: its prepared statements and the transactions each write runs in.
public sealed partial class SqliteLogStore
{
    // The writer's prepared statements, reused for every batch: preparing per row would dominate the insert cost.
    private sealed class WriterState
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _insertEntry;
        private readonly SqliteParameter _entryIndex;
        private readonly SqliteParameter _entryData;
        private readonly SqliteCommand _upsertTile;
        private readonly SqliteParameter _tileLevel;
        private readonly SqliteParameter _tileIndex;
        private readonly SqliteParameter _tileHashes;
        private readonly SqliteCommand _storedSize;
        private readonly SqliteCommand _latestCheckpointSize;
        private readonly SqliteCommand _upsertCheckpoint;
        private readonly SqliteParameter _checkpointSize;
        private readonly SqliteParameter _checkpointNote;
        private readonly SqliteCommand _upsertSeal;
        private readonly SqliteParameter _sealSize;
        private readonly SqliteParameter _sealTag;
        private readonly SqliteCommand _deleteSeal;

        public WriterState(SqliteConnection connection, WriterLock writerLock)
        {
            _connection = connection;
            Lock = writerLock;
            _insertEntry = Command("INSERT INTO entries(idx, data) VALUES($idx, $data);");
            _entryIndex = _insertEntry.Parameters.Add("$idx", SqliteType.Integer);
            _entryData = _insertEntry.Parameters.Add("$data", SqliteType.Blob);
            _upsertTile = Command(
                "INSERT INTO tiles(level, idx, hashes) VALUES($level, $idx, $hashes) "
                + "ON CONFLICT(level, idx) DO UPDATE SET hashes = excluded.hashes;");
            _tileLevel = _upsertTile.Parameters.Add("$level", SqliteType.Integer);
            _tileIndex = _upsertTile.Parameters.Add("$idx", SqliteType.Integer);
            _tileHashes = _upsertTile.Parameters.Add("$hashes", SqliteType.Blob);
            _storedSize = Command(StoredSizeSql);
            _latestCheckpointSize = Command(LatestCheckpointSizeSql);
            _upsertCheckpoint = Command(
                "INSERT INTO checkpoints(size, note, previous) "
                + "VALUES($size, $note, coalesce((SELECT max(size) FROM checkpoints WHERE size < $size), -1)) "
                + "ON CONFLICT(size) DO UPDATE SET note = excluded.note;");
            _checkpointSize = _upsertCheckpoint.Parameters.Add("$size", SqliteType.Integer);
            _checkpointNote = _upsertCheckpoint.Parameters.Add("$note", SqliteType.Blob);
            _upsertSeal = Command(
                "INSERT INTO tail_seal(one, size, tag) VALUES(1, $size, $tag) "
                + "ON CONFLICT(one) DO UPDATE SET size = excluded.size, tag = excluded.tag;");
            _sealSize = _upsertSeal.Parameters.Add("$size", SqliteType.Integer);
            _sealTag = _upsertSeal.Parameters.Add("$tag", SqliteType.Blob);
            _deleteSeal = Command("DELETE FROM tail_seal;");
            foreach (var command in new[] { _insertEntry, _upsertTile, _upsertCheckpoint, _upsertSeal, _deleteSeal })
            {
                command.Prepare();
            }
        }

        public WriterLock Lock { get; }

        public string? WriteBatch(LogBatch batch, CancellationToken cancellationToken)
        {
            // IMMEDIATE: the write lock is taken now, and until Commit returns nothing is visible to any reader. Any
            // exception before Commit disposes the transaction, which rolls the whole batch back.
            using var transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            var stored = ScalarLong(_storedSize) ?? 0;
            if (batch.Start != stored)
            {
                return
                    $"the batch starts at index {batch.Start} but the log holds {stored} entries; a batch must start "
                    + "at the stored size (was another writer running, or a batch skipped?)";
            }

            var index = batch.Start;
            foreach (var entry in batch.Entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _entryIndex.Value = index++;
                _entryData.Value = AsArray(entry);
                _insertEntry.ExecuteNonQuery();
            }

            foreach (var tile in batch.Tiles)
            {
                _tileLevel.Value = tile.Level;
                _tileIndex.Value = tile.Index;
                _tileHashes.Value = tile.Hashes;
                _upsertTile.ExecuteNonQuery();
            }

            // The seal is replaced in the batch's own transaction: it always describes the tree the stored rows make.
            if (batch.TailSeal is { } seal)
            {
                _sealSize.Value = index;
                _sealTag.Value = seal;
                _upsertSeal.ExecuteNonQuery();
            }
            else
            {
                _deleteSeal.ExecuteNonQuery();
            }

            cancellationToken.ThrowIfCancellationRequested();

            // Durability point: with synchronous=FULL the WAL is fsynced before Commit returns. If the fsync itself
            // fails SQLite reports an error, yet the frames may reach the disk and reappear after a restart; the
            // writer is then poisoned, and recovery checks the stored tree against the last signed checkpoint.
            transaction.Commit();
            return null;
        }

        public string? WriteCheckpoint(StoredCheckpoint checkpoint, CancellationToken cancellationToken)
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            var latest = ScalarLong(_latestCheckpointSize);
            if (checkpoint.Size < latest)
            {
                return
                    $"checkpoint size {checkpoint.Size} is below the latest stored checkpoint size {latest}; "
                    + "checkpoints never shrink";
            }

            var stored = ScalarLong(_storedSize) ?? 0;
            if (checkpoint.Size > stored)
            {
                return
                    $"checkpoint size {checkpoint.Size} exceeds the {stored} stored entries; a checkpoint may only "
                    + "cover entries already made durable";
            }

            _checkpointSize.Value = checkpoint.Size;
            _checkpointNote.Value = checkpoint.Note;
            _upsertCheckpoint.ExecuteNonQuery();

            // Durability point: the checkpoint is fsynced with the WAL before Commit returns.
            transaction.Commit();
            return null;
        }

        public string? DiscardTail(long size, CancellationToken cancellationToken)
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            Enlist(transaction);
            var latest = ScalarLong(_latestCheckpointSize);
            if (latest > size)
            {
                return $"a signed checkpoint covers {latest} entries; a tail can only be discarded past the last checkpoint, not below it ({size})";
            }

            using var deleteEntries = Command("DELETE FROM entries WHERE idx >= $size;");
            deleteEntries.Transaction = transaction;
            deleteEntries.Parameters.AddWithValue("$size", size);
            deleteEntries.ExecuteNonQuery();

            // Cut every level back to the tiles a tree of this size has: its full tiles, then a partial one of its width.
            for (var level = 0; level < 8; level++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var full = Sios.Verify.Tiles.TilePath.FullTileCount(level, size);
                var width = Sios.Verify.Tiles.TilePath.PartialWidth(level, size);
                using var cut = Command(
                    "DELETE FROM tiles WHERE level = $level AND idx >= $keep; "
                    + "UPDATE tiles SET hashes = substr(hashes, 1, $bytes) WHERE level = $level AND idx = $partial AND length(hashes) > $bytes;");
                cut.Transaction = transaction;
                cut.Parameters.AddWithValue("$level", level);
                cut.Parameters.AddWithValue("$keep", width == 0 ? full : full + 1);
                cut.Parameters.AddWithValue("$partial", full);
                cut.Parameters.AddWithValue("$bytes", width * 32);
                cut.ExecuteNonQuery();
            }

            _deleteSeal.ExecuteNonQuery();

            // Durability point: the cut is fsynced with the WAL before Commit returns; until then the tail stands whole.
            transaction.Commit();
            return null;
        }

        public void DisposeCommands()
        {
            foreach (var command in new[] { _insertEntry, _upsertTile, _storedSize, _latestCheckpointSize, _upsertCheckpoint, _upsertSeal, _deleteSeal })
            {
                command.Dispose();
            }
        }

        private static long? ScalarLong(SqliteCommand command)
        {
            var value = command.ExecuteScalar();
            return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }

        // The driver binds byte[] only; an entry that already is a whole array is passed without a copy.
        private static byte[] AsArray(ReadOnlyMemory<byte> entry) =>
            MemoryMarshal.TryGetArray(entry, out var segment)
            && segment.Offset == 0
            && segment.Array is { } array
            && segment.Count == array.Length
                ? array
                : entry.ToArray();

        private SqliteCommand Command(string sql)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }

        private void Enlist(SqliteTransaction transaction)
        {
            _insertEntry.Transaction = transaction;
            _upsertTile.Transaction = transaction;
            _storedSize.Transaction = transaction;
            _latestCheckpointSize.Transaction = transaction;
            _upsertCheckpoint.Transaction = transaction;
            _upsertSeal.Transaction = transaction;
            _deleteSeal.Transaction = transaction;
        }
    }
}
