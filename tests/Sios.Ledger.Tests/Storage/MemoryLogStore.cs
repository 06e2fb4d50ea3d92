using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Sios.Ledger.Storage;

namespace Sios.Ledger.Tests.Storage;

/// <summary>
/// An in-memory <see cref="ILogStore"/> for tests. Every instance opened on the same directory string shares one log,
/// so reopening sees earlier writes, and the writer lock excludes a second instance as a real backend's would; a log
/// opened <c>shared</c> lets several writers take turns instead, as nodes on one database do.
/// <see cref="Fault"/> injects failures at the durability points.
/// </summary>
public sealed class MemoryLogStore : ILogStore
{
    private static readonly ConcurrentDictionary<string, SharedLog> Logs = new(StringComparer.Ordinal);

    private readonly string _directory;
    private readonly SharedLog _log;
    private bool _isWriter;
    private bool _sole;
    private bool _turnHeld;
    private Exception? _writeFailure;
    private bool _disposed;

    private MemoryLogStore(string directory, SharedLog log)
    {
        _directory = directory;
        _log = log;
    }

    /// <summary>
    /// Consulted at each durability point with its name: "batch.before", "batch.after", "checkpoint.before",
    /// "checkpoint.after". A returned exception is thrown there; at an ".after" point the write has already been made,
    /// simulating a crash between the durable write and its acknowledgement. Either way the writer becomes unusable.
    /// </summary>
    public Func<string, Exception?>? Fault { get; set; }

    /// <summary>Called after each read of the stored size, so a test can let other writers act before the reader's next read.</summary>
    public Action? AfterSizeRead { get; set; }

    /// <summary>
    /// Opens (creating on first use) the in-memory log named by <paramref name="directory"/>; a log first opened
    /// <paramref name="shared"/> takes several writers in turns.
    /// </summary>
    public static MemoryLogStore Open(string directory, bool shared = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return new MemoryLogStore(directory, Logs.GetOrAdd(directory, _ => new SharedLog(shared)));
    }

    /// <inheritdoc />
    public bool SharedWriters => _log.Shared && _isWriter && !_sole;

    /// <inheritdoc />
    public Task RejoinAsync(CancellationToken cancellationToken = default)
    {
        lock (_log.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!SharedWriters)
            {
                throw new InvalidOperationException("only a writer that shares the log rejoins it");
            }

            if (Unreachable)
            {
                throw new IOException("the memory store is unreachable");
            }

            _writeFailure = null;
            if (_turnHeld)
            {
                _turnHeld = false;
                _log.Turn.Release();
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>While set, every read and write of this instance fails as a database that went away would.</summary>
    public bool Unreachable { get; set; }

    /// <inheritdoc />
    public Task AcquireSoleWriterAsync(CancellationToken cancellationToken = default)
    {
        if (!_log.Shared)
        {
            return AcquireWriterAsync(cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_log.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_log.Members > 0 || _log.Writer is not null)
            {
                throw new LogInUseException($"the memory log {_directory} has other writers");
            }

            (_log.Writer, _isWriter, _sole) = (this, true, true);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> TakeTurnAsync(CancellationToken cancellationToken = default)
    {
        lock (_log.Gate)
        {
            RequireWriter();
        }

        if (!SharedWriters)
        {
            return new Turn(null);
        }

        if (!await _log.Turn.WaitAsync(TurnTimeout, cancellationToken))
        {
            throw new Sios.Ledger.Pipeline.LogBackpressureException($"another writer has held the turn of {_directory} too long");
        }

        _turnHeld = true;
        return new Turn(this);
    }

    /// <summary>How long <see cref="TakeTurnAsync"/> waits; tests that hold a turn on purpose shorten it.</summary>
    public TimeSpan TurnTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    public async Task<long> GetStoredSizeAsync(CancellationToken cancellationToken = default)
    {
        var size = await Read(log => (long)log.Entries.Count, cancellationToken).ConfigureAwait(false);
        AfterSizeRead?.Invoke();
        return size;
    }

    /// <inheritdoc />
    public Task<StoredCheckpoint?> GetLatestCheckpointAsync(CancellationToken cancellationToken = default) =>
        Read(
            log => log.Checkpoints.Count == 0
                ? null
                : Stored(log.Checkpoints.Keys[^1], log.Checkpoints.Values[^1]),
            cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<StoredCheckpoint> ReadCheckpointsAsync(
        long fromSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fromSize);
        var snapshot = await Read(
            log => log.Checkpoints
                .Where(pair => pair.Key >= fromSize)
                .Select(pair => Stored(pair.Key, pair.Value))
                .ToList(),
            cancellationToken);
        foreach (var checkpoint in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return checkpoint;
        }
    }

    /// <inheritdoc />
    public Task<byte[]?> ReadTileAsync(int level, long index, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return Read(
            log => log.Tiles.TryGetValue((level, index), out var hashes) ? (byte[])hashes.Clone() : null,
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<byte[]>> ReadEntriesAsync(long start, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Read<IReadOnlyList<byte[]>>(
            log =>
            {
                var end = Math.Min(log.Entries.Count, start + count);
                var result = new List<byte[]>();
                for (var i = start; i < end; i++)
                {
                    result.Add((byte[])log.Entries[(int)i].Clone());
                }

                return result;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task AcquireWriterAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_log.Gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_isWriter)
            {
                throw new InvalidOperationException("AcquireWriterAsync was already called on this store; call it once.");
            }

            if (_log.Writer is not null)
            {
                throw new LogInUseException($"log is in use by PID {Environment.ProcessId} (memory log {_directory})");
            }

            if (_log.Shared)
            {
                _log.Members++;
                _isWriter = true;
                return Task.CompletedTask;
            }

            _log.Writer = this;
            _isWriter = true;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task WriteBatchAsync(LogBatch batch, CancellationToken cancellationToken = default)
    {
        StoreArguments.Batch(batch);
        cancellationToken.ThrowIfCancellationRequested();
        using var turn = await OwnTurnAsync(cancellationToken);
        lock (_log.Gate)
        {
            RequireWriter();
            if (batch.Start != _log.Entries.Count)
            {
                throw new InvalidOperationException(
                    $"the batch starts at index {batch.Start} but the log holds {_log.Entries.Count} entries");
            }

            InjectFault("batch.before");
            foreach (var entry in batch.Entries)
            {
                _log.Entries.Add(entry.ToArray());
            }

            foreach (var tile in batch.Tiles)
            {
                _log.Tiles[(tile.Level, tile.Index)] = (byte[])tile.Hashes.Clone();
            }

            _log.Seal = batch.TailSeal is { } seal ? new TailSeal(_log.Entries.Count, (byte[])seal.Clone()) : null;
            InjectFault("batch.after");
        }
    }

    /// <inheritdoc />
    public async Task WriteCheckpointAsync(StoredCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        StoreArguments.Checkpoint(checkpoint);
        cancellationToken.ThrowIfCancellationRequested();
        using var turn = await OwnTurnAsync(cancellationToken);
        lock (_log.Gate)
        {
            RequireWriter();
            if (_log.Checkpoints.Count > 0 && checkpoint.Size < _log.Checkpoints.Keys[^1])
            {
                throw new InvalidOperationException(
                    $"checkpoint size {checkpoint.Size} is below the latest stored one, {_log.Checkpoints.Keys[^1]}");
            }

            if (checkpoint.Size > _log.Entries.Count)
            {
                throw new InvalidOperationException(
                    $"checkpoint size {checkpoint.Size} exceeds the {_log.Entries.Count} stored entries");
            }

            InjectFault("checkpoint.before");
            var previous = _log.Checkpoints.Count == 0 ? StoredCheckpoint.First : _log.Checkpoints.Keys[^1];
            _log.Checkpoints[checkpoint.Size] = _log.Checkpoints.TryGetValue(checkpoint.Size, out var same)
                ? ((byte[])checkpoint.Note.Clone(), same.Previous)
                : ((byte[])checkpoint.Note.Clone(), previous);
            InjectFault("checkpoint.after");
        }
    }

    /// <inheritdoc />
    public Task<TailSeal?> ReadTailSealAsync(CancellationToken cancellationToken = default) =>
        Read(log => log.Seal is { } seal ? new TailSeal(seal.Size, (byte[])seal.Tag.Clone()) : null, cancellationToken);

    /// <inheritdoc />
    public async Task DiscardTailAsync(long size, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        cancellationToken.ThrowIfCancellationRequested();
        using var turn = await OwnTurnAsync(cancellationToken);
        lock (_log.Gate)
        {
            RequireWriter();
            if (_log.Checkpoints.Count > 0 && _log.Checkpoints.Keys[^1] > size)
            {
                throw new InvalidOperationException($"a signed checkpoint covers {_log.Checkpoints.Keys[^1]} entries; cannot discard below it");
            }

            if (size < _log.Entries.Count)
            {
                _log.Entries.RemoveRange((int)size, _log.Entries.Count - (int)size);
            }

            foreach (var key in _log.Tiles.Keys.ToList())
            {
                var full = Sios.Verify.Tiles.TilePath.FullTileCount(key.Level, size);
                var width = Sios.Verify.Tiles.TilePath.PartialWidth(key.Level, size);
                if (key.Index > full || (key.Index == full && width == 0))
                {
                    _log.Tiles.Remove(key);
                }
                else if (key.Index == full && _log.Tiles[key].Length > width * 32)
                {
                    _log.Tiles[key] = _log.Tiles[key][..(width * 32)];
                }
            }

            _log.Seal = null;
        }
    }

    /// <summary>Releases the writer lock if this instance holds it.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_log.Gate)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            if (_isWriter && ReferenceEquals(_log.Writer, this))
            {
                _log.Writer = null;
            }
            else if (_isWriter && _log.Shared)
            {
                _log.Members--;
            }

            if (_turnHeld)
            {
                _turnHeld = false;
                _log.Turn.Release();
            }

            _isWriter = false;
        }

        return ValueTask.CompletedTask;
    }

    private static StoredCheckpoint Stored(long size, (byte[] Note, long Previous) row) =>
        new(size, (byte[])row.Note.Clone()) { Previous = row.Previous };

    private Task<T> Read<T>(Func<SharedLog, T> read, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        if (Unreachable)
        {
            return Task.FromException<T>(new IOException("the memory store is unreachable"));
        }

        lock (_log.Gate)
        {
            return _disposed ? Task.FromException<T>(new ObjectDisposedException(GetType().Name)) : Task.FromResult(read(_log));
        }
    }

    private void RequireWriter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Unreachable)
        {
            _writeFailure ??= new IOException("the memory store is unreachable");
        }

        if (!_isWriter)
        {
            throw new InvalidOperationException("this store is not the writer; call AcquireWriterAsync before writing");
        }

        if (_writeFailure is not null)
        {
            throw new InvalidOperationException("an earlier write failed; dispose the store and reopen it", _writeFailure);
        }
    }

    private void InjectFault(string point)
    {
        if (Fault?.Invoke(point) is { } fault)
        {
            _writeFailure = fault;
            throw fault;
        }
    }

    // A write outside a held turn is a turn of its own on a shared log (the gate alone would let it land between another
    // writer's batch and its checkpoint).
    private async Task<SemaphoreReleaser?> OwnTurnAsync(CancellationToken cancellationToken)
    {
        if (!SharedWriters || _turnHeld)
        {
            return null;
        }

        if (!await _log.Turn.WaitAsync(TurnTimeout, cancellationToken))
        {
            throw new Sios.Ledger.Pipeline.LogBackpressureException($"another writer has held the turn of {_directory} too long");
        }

        return new SemaphoreReleaser(_log.Turn);
    }

    private sealed class SemaphoreReleaser(SemaphoreSlim semaphore) : IDisposable
    {
        public void Dispose() => semaphore.Release();
    }

    private sealed class Turn(MemoryLogStore? store) : IAsyncDisposable
    {
        private int _ended;

        public ValueTask DisposeAsync()
        {
            if (store is not null && Interlocked.Exchange(ref _ended, 1) == 0)
            {
                lock (store._log.Gate)
                {
                    if (store._turnHeld)
                    {
                        store._turnHeld = false;
                        store._log.Turn.Release();
                    }
                }
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class SharedLog(bool shared)
    {
        public bool Shared { get; } = shared;

        public int Members { get; set; }

        public SemaphoreSlim Turn { get; } = new(1, 1);

        public Lock Gate { get; } = new();

        public List<byte[]> Entries { get; } = [];

        public Dictionary<(int Level, long Index), byte[]> Tiles { get; } = [];

        public SortedList<long, (byte[] Note, long Previous)> Checkpoints { get; } = [];

        public MemoryLogStore? Writer { get; set; }

        public TailSeal? Seal { get; set; }
    }
}
