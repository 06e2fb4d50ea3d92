using System.Threading.Channels;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Merkle;
using Sios.Ledger.Storage;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Merkle;
using Sios.Verify.Tiles;

namespace Sios.Ledger.Pipeline;

/// <summary>
/// The append pipeline of the Open Audit Record: append -> queue -> batch -> sequence -> integrate (entries and
/// tiles durable in one transaction) -> sign the newest tree -> checkpoint durable -> release the waiters.
/// An append completes only when its entry is durable and covered by a durable signed checkpoint.
/// </summary>
public sealed class TransparencyLog : IAsyncDisposable
{
    private readonly ILogStore _store;
    private readonly LogSigner _signer;
    private readonly TransparencyLogOptions _options;
    private readonly Channel<Pending> _queue;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _integratedSignal = new(0);
    private readonly Lock _integratedLock = new();
    private readonly List<Integrated> _integrated = [];
    private readonly Lock _latestLock = new();
    private readonly CancellationTokenSource _stopFollowing = new();
    private readonly bool _shared;
    private TreeBuilder _builder;
    private bool _afterFailure;
    private volatile string? _turnProblem;
    private volatile string? _followProblem;
    private readonly Task _sequencer;
    private readonly Task _publisher;
    private readonly Task _follower;
    private PublishedCheckpoint _latest;
    private volatile Exception? _failure;
    private volatile bool _sequencerDone;

    private TransparencyLog(ILogStore store, LogSigner signer, TransparencyLogOptions options, TreeBuilder builder, PublishedCheckpoint latest)
    {
        _store = store;
        _signer = signer;
        _options = options;
        _builder = builder;
        _latest = latest;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _sequencer = Task.Run(SequenceLoopAsync);
        _publisher = Task.Run(PublishLoopAsync);
        _shared = store.SharedWriters;
        _follower = _shared ? Task.Run(FollowLoopAsync) : Task.CompletedTask;
    }

    /// <summary>How often a writer of a shared store looks for checkpoints the other writers published.</summary>
    public static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The newest durable signed checkpoint.</summary>
    public PublishedCheckpoint Latest => Volatile.Read(ref _latest);

    /// <summary>
    /// The failure that stopped the log (a store write or a signature that failed), or null while it seals: once set,
    /// every append fails until the log is reopened and recovered.
    /// </summary>
    public Exception? Failure => _failure;

    /// <summary>Whether other nodes write this log too (a shared store): then a failed store write is not the log's end.</summary>
    public bool Shared => _shared;

    /// <summary>
    /// On a shared store, why this node cannot seal right now (its last batch failed, or the store cannot be read), or
    /// null: the node refuses answers meanwhile and rejoins the store by itself once it is back.
    /// </summary>
    public string? StoreProblem => _turnProblem ?? _followProblem;

    /// <summary>The log's origin.</summary>
    public string Origin => _signer.Origin;

    /// <summary>The verifier keys of the signer this log runs with (ML-DSA-65 first).</summary>
    public IReadOnlyList<Sios.Verify.Notes.VerifierKey> VerifierKeys => _signer.VerifierKeys;

    /// <summary>Signs a sovereignty statement with the running signer (see <see cref="LogSigner.SignAttestation"/>).</summary>
    public byte[] SignAttestation(string text) => _signer.SignAttestation(text);

    /// <summary>Read access to the underlying store (safe alongside appends).</summary>
    public ILogReader Reader => _store;

    /// <summary>
    /// Takes the store's writer lock, recovers (the stored tiles must reproduce the last signed checkpoint, or
    /// the log refuses to run), signs any durable tail left by a crash, and starts the pipeline. The log owns
    /// <paramref name="store"/> and <paramref name="signer"/> from here on.
    /// </summary>
    public static async Task<TransparencyLog> OpenAsync(ILogStore store, LogSigner signer, TransparencyLogOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(signer);
        options ??= new TransparencyLogOptions();
        await (options.SoleWriter ? store.AcquireSoleWriterAsync(cancellationToken) : store.AcquireWriterAsync(cancellationToken)).ConfigureAwait(false);
        if (options.TailKey is { Length: not TailSeals.Size })
        {
            throw new ArgumentException($"the tail seal key is {TailSeals.Size} bytes", nameof(options));
        }

        // On a shared store the others go on writing: recovery reads the size and the latest checkpoint, and may sign a
        // tail, so it runs inside a turn like any batch, or it could read the two at different moments or sign over a
        // batch another node is about to publish.
        TreeBuilder builder;
        PublishedCheckpoint latest;
        var turn = await store.TakeTurnAsync(cancellationToken).ConfigureAwait(false);
        await using (turn.ConfigureAwait(false))
        {
            (builder, latest) = await LogRecovery.RecoverAsync(store, signer, options.TailKey, cancellationToken).ConfigureAwait(false);
        }

        return new TransparencyLog(store, signer, options, builder, latest);
    }

    /// <summary>
    /// Seals <paramref name="entry"/>. Completes with its index once it is durable and under a durable signed
    /// checkpoint. Cancelling stops the wait only: an entry already queued is still sealed.
    /// Throws <see cref="LogBackpressureException"/> at once when the queue is full and
    /// <see cref="LogFailedException"/> when the log has stopped.
    /// </summary>
    public Task<AppendResult> AppendAsync(ReadOnlyMemory<byte> entry, CancellationToken cancellationToken = default)
    {
        if (entry.Length is 0 or > Sios.Verify.Entries.EntryJson.MaxEntryBytes)
        {
            throw new ArgumentException($"an entry is 1 to {Sios.Verify.Entries.EntryJson.MaxEntryBytes} bytes, not {entry.Length}", nameof(entry));
        }

        ThrowIfFailed();
        var pending = new Pending(entry, new TaskCompletionSource<AppendResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            ThrowIfFailed();
            throw new LogBackpressureException($"the log's append queue is full ({_options.QueueCapacity} entries waiting)", TimeSpan.FromSeconds(1));
        }

        return cancellationToken.CanBeCanceled ? pending.Done.Task.WaitAsync(cancellationToken) : pending.Done.Task;
    }

    /// <summary>Stops accepting appends, seals what was queued, and releases the store and keys.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _sequencer.ConfigureAwait(false);
            await _publisher.ConfigureAwait(false);
            await _stopFollowing.CancelAsync().ConfigureAwait(false);
            await _follower.ConfigureAwait(false);
            NotifyPublished(Latest);
        }
        finally
        {
            await _store.DisposeAsync().ConfigureAwait(false);
            _signer.Dispose();
            _writeLock.Dispose();
            _integratedSignal.Dispose();
            _stopFollowing.Dispose();
        }
    }

    private void NotifyPublished(PublishedCheckpoint checkpoint)
    {
        try
        {
            _options.Published?.Invoke(checkpoint);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // An observer's failure must not fail appends that are already durable and signed.
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw new LogFailedException($"the log stopped after a failure and seals nothing more until restarted: {failure.Message}", failure);
        }
    }

    private async Task SequenceLoopAsync()
    {
        var batch = new List<Pending>(_options.MaxBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                if (_options.BatchLinger > TimeSpan.Zero)
                {
                    await Task.Delay(_options.BatchLinger).ConfigureAwait(false);
                }

                while (batch.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out var p))
                {
                    batch.Add(p);
                }

                await IntegrateAsync(batch).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch (Exception e)
        {
            Fail(e, batch);
        }
        finally
        {
            _sequencerDone = true;
            _integratedSignal.Release();
        }
    }

    private async Task IntegrateAsync(List<Pending> batch)
    {
        ThrowIfFailed();
        if (_shared)
        {
            await IntegrateInTurnAsync(batch).ConfigureAwait(false);
            return;
        }

        var (stored, root) = Sequence(batch);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            // Durability point 1: entries, tiles and the tail seal in one transaction. Nothing is signed for them before
            // this returns; if a crash comes before their checkpoint, the seal lets recovery tell them from forged rows.
            await _store.WriteBatchAsync(stored).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        var integrated = new Integrated(_builder.Size, root, [.. batch]);
        lock (_integratedLock)
        {
            _integrated.Add(integrated);
        }

        if (_failure is { } failure)
        {
            // The publisher failed while this batch was being written: nobody will sign it, so fail its waiters.
            Fail(failure, []);
        }

        _integratedSignal.Release();
    }

    /// <summary>
    /// A batch on a store several writers share: all of it (catching up with what the others appended, the entries, the
    /// signature, the checkpoint) within this writer's turn, so no other batch lands between this one and its checkpoint,
    /// and every checkpoint extends the stored tree it was built on: the writers never sign two inconsistent trees.
    /// </summary>
    private async Task IntegrateInTurnAsync(List<Pending> batch)
    {
        try
        {
            if (_afterFailure)
            {
                await _store.RejoinAsync().ConfigureAwait(false);
            }

            await WriteInTurnAsync(batch).ConfigureAwait(false);
            (_turnProblem, _followProblem) = (null, null);
        }
        catch (LogBackpressureException e)
        {
            // Another writer kept the turn too long: these appends are refused (503 and Retry-After), the log goes on.
            Refuse(batch, e);
        }
        catch (Exception e) when (e is not (LogIntegrityException or OutOfMemoryException))
        {
            // The store failed (unreachable, restarted, failed over): this batch is refused, never acknowledged unsealed.
            // Whether its write landed is unknown, so the next batch rejoins and rebuilds the tree from the store first: a
            // landed batch is then a sealed tail that gets signed, a lost one is simply absent. A store that holds
            // something this log refuses to sign (LogIntegrityException) stops the log instead.
            _afterFailure = true;
            _turnProblem = $"the log store failed: {e.Message}";
            Refuse(batch, new LogFailedException($"the log store failed, so this batch was not sealed; the node rejoins the store for the next one: {e.Message}", e));
        }
    }

    private static void Refuse(List<Pending> batch, Exception error)
    {
        foreach (var p in batch)
        {
            p.Done.TrySetException(error);
        }
    }

    private async Task WriteInTurnAsync(List<Pending> batch)
    {
        var turn = await _store.TakeTurnAsync().ConfigureAwait(false);

        PublishedCheckpoint checkpoint;
        long start;
        await using (turn.ConfigureAwait(false))
        {
            await CatchUpAsync().ConfigureAwait(false);
            start = _builder.Size;
            var (stored, root) = Sequence(batch);
            // Durability point 1, then 2, as for a single writer; a crash between them leaves a sealed tail that the next
            // writer's turn (or this node's restart) signs after checking its seal.
            await _store.WriteBatchAsync(stored).ConfigureAwait(false);
            var note = _signer.Sign(_builder.Size, root);
            await _store.WriteCheckpointAsync(new StoredCheckpoint(_builder.Size, note)).ConfigureAwait(false);
            checkpoint = new PublishedCheckpoint(_builder.Size, root, note);
        }

        Adopt(checkpoint);
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Done.TrySetResult(new AppendResult(start + i, checkpoint));
        }
    }

    /// <summary>
    /// At the start of a turn: when other writers have appended since this one's last turn (or left a durable unsigned
    /// tail by crashing between their two writes), rebuilds the tree edge from the store exactly as a restart would: the
    /// newest stored checkpoint must verify under this log's keys and match the stored tiles, and a tail must carry its seal.
    /// </summary>
    private async Task CatchUpAsync()
    {
        var stored = await _store.GetStoredSizeAsync().ConfigureAwait(false);
        var latest = await _store.GetLatestCheckpointAsync().ConfigureAwait(false);
        // After a failed batch the in-memory tree holds hashes the store may lack even where the sizes agree (another
        // node may have appended as many), so only a turn after a success may trust it.
        if (!_afterFailure && stored == _builder.Size && latest?.Size == _builder.Size)
        {
            return;
        }

        var (builder, recovered) = await LogRecovery.RecoverAsync(_store, _signer, _options.TailKey, CancellationToken.None).ConfigureAwait(false);
        _builder = builder;
        _afterFailure = false;
        Adopt(recovered);
    }

    /// <summary>Makes <paramref name="checkpoint"/> the latest when it is newer, and tells the observer.</summary>
    private void Adopt(PublishedCheckpoint checkpoint)
    {
        lock (_latestLock)
        {
            if (checkpoint.Size <= Latest.Size)
            {
                return;
            }

            Volatile.Write(ref _latest, checkpoint);
            NotifyPublished(checkpoint);
        }
    }

    /// <summary>
    /// On a shared store, adopts the checkpoints the other writers publish, so this node serves a fresh checkpoint and
    /// receipts for every writer's entries even while it appends nothing. Each is verified under this log's keys first;
    /// the tree edge is left to the next turn's catch-up.
    /// </summary>
    private async Task FollowLoopAsync()
    {
        while (!_stopFollowing.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(FollowInterval, _stopFollowing.Token).ConfigureAwait(false);
                var stored = await _store.GetLatestCheckpointAsync(_stopFollowing.Token).ConfigureAwait(false);
                // Readable again: the next batch rejoins by itself, so the node may take answers again.
                _followProblem = null;
                _turnProblem = null;
                if (stored is not null && stored.Size > Latest.Size)
                {
                    var verified = new CheckpointVerifier(_signer.Origin, LogRecovery.RecoveryKeys(_signer, stored.Note)).Verify(stored.Note);
                    if (verified.Checkpoint.Size == stored.Size)
                    {
                        Adopt(new PublishedCheckpoint(stored.Size, verified.Checkpoint.Root, stored.Note));
                    }
                }
            }
            catch (OperationCanceledException) when (_stopFollowing.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // An unreachable store, or a checkpoint that does not verify, is not adopted; /healthz says why meanwhile.
                _followProblem = $"the log store cannot be read: {e.Message}";
            }
        }
    }

    /// <summary>Gives the batch the next indices of the in-memory tree: the store write (entries, changed tiles, tail seal) and the new root.</summary>
    private (LogBatch Stored, byte[] Root) Sequence(List<Pending> batch)
    {
        var start = _builder.Size;
        var hashes = new byte[batch.Count][];
        var entries = new ReadOnlyMemory<byte>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            entries[i] = batch[i].Entry;
            hashes[i] = Rfc6962.LeafHash(batch[i].Entry.Span);
        }

        var tiles = _builder.Append(hashes);
        var root = _builder.Root();
        var seal = _options.TailKey is { } key ? TailSeals.Compute(key, _signer.Origin, _builder.Size, root) : null;
        return (new LogBatch(start, entries, tiles) { TailSeal = seal }, root);
    }

    private async Task PublishLoopAsync()
    {
        List<Integrated> ready = [];
        try
        {
            while (true)
            {
                await _integratedSignal.WaitAsync().ConfigureAwait(false);
                var done = _sequencerDone;
                lock (_integratedLock)
                {
                    ready = [.. _integrated];
                    _integrated.Clear();
                }

                if (ready.Count > 0)
                {
                    await PublishAsync(ready).ConfigureAwait(false);
                }

                // The sequencer sets the flag before its last signal, so nothing can be integrated after this.
                if (done)
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            // The batches being published are durable but unsigned: their waiters learn of the failure, and the
            // next start of the log signs them during recovery (their tail seal proves them this log's own).
            Fail(e, [.. ready.SelectMany(batch => batch.Waiters)]);
        }
    }

    private async Task PublishAsync(List<Integrated> ready)
    {
        // Coalesce: one signature covers every batch made durable since the last checkpoint.
        var newest = ready[^1];
        var note = _signer.Sign(newest.Size, newest.Root);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            // Durability point 2: the checkpoint, only ever for a tree whose data is already durable.
            await _store.WriteCheckpointAsync(new StoredCheckpoint(newest.Size, note)).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }

        var checkpoint = new PublishedCheckpoint(newest.Size, newest.Root, note);
        Volatile.Write(ref _latest, checkpoint);
        NotifyPublished(checkpoint);
        foreach (var batch in ready)
        {
            var first = batch.Size - batch.Waiters.Length;
            for (var i = 0; i < batch.Waiters.Length; i++)
            {
                batch.Waiters[i].Done.TrySetResult(new AppendResult(first + i, checkpoint));
            }
        }
    }

    private void Fail(Exception cause, List<Pending> inFlight)
    {
        _failure ??= cause;
        _queue.Writer.TryComplete();
        var error = new LogFailedException($"the log stopped: {cause.Message}", cause);
        foreach (var p in inFlight)
        {
            p.Done.TrySetException(error);
        }

        lock (_integratedLock)
        {
            foreach (var batch in _integrated)
            {
                foreach (var p in batch.Waiters)
                {
                    p.Done.TrySetException(error);
                }
            }

            _integrated.Clear();
        }

        while (_queue.Reader.TryRead(out var queued))
        {
            queued.Done.TrySetException(error);
        }
    }

    private readonly record struct Pending(ReadOnlyMemory<byte> Entry, TaskCompletionSource<AppendResult> Done);

    private sealed record Integrated(long Size, byte[] Root, Pending[] Waiters);
}
