using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Sios.Ledger.Durable;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;

namespace Sios.Witness;

/// <summary>A checkpoint the witness cosigned: its body and the note it keeps (log signatures it verified, then its own).</summary>
/// <param name="Checkpoint">The checkpoint body.</param>
/// <param name="Note">The cosigned note bytes, as served to monitors.</param>
public sealed record CosignedCheckpoint(Checkpoint Checkpoint, byte[] Note)
{
    /// <summary>Reads a kept note back.</summary>
    public static CosignedCheckpoint Parse(byte[] note) => new(Checkpoint.Parse(SignedNote.Parse(note).Text), note);
}

/// <summary>
/// The latest cosigned checkpoint of each log, changed only by <see cref="UpdateAsync"/>: a compare-and-swap made under
/// one lock, whose commit point is the fsynced <see cref="WitnessRecord"/> append, before the per-log state file
/// (<c>state/HEX(SHA-256(origin)).checkpoint</c>, replaced durably) and before any answer. Opening rolls each state file
/// forward to the record, so a crash between the two can never let the witness cosign a checkpoint inconsistent with
/// one it recorded. One process at a time holds the folder (<c>witness.lock</c>).
/// </summary>
public sealed class WitnessState : IDisposable
{
    private readonly FileStream _lock;
    private readonly WitnessRecord _record;
    private readonly string _statePath;
    private readonly ConcurrentDictionary<string, CosignedCheckpoint> _latest = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    private WitnessState(FileStream held, WitnessRecord record, string statePath)
    {
        _lock = held;
        _record = record;
        _statePath = statePath;
    }

    /// <summary>
    /// Opens the state of the witness folder <paramref name="folder"/>; throws <see cref="Sios.Ledger.Durable.FileLockBusyException"/>
    /// while another process holds it.
    /// </summary>
    public static WitnessState Open(string folder)
    {
        var lockPath = Path.Combine(folder, "witness.lock");
        var held = FileLock.Acquire(lockPath, TimeSpan.Zero, $"the witness folder {folder} is in use by another sios process (lock {lockPath})");
        WitnessRecord? record = null;
        try
        {
            var statePath = Path.Combine(folder, "state");
            DurableFile.CreateDirectory(statePath);
            record = WitnessRecord.Open(Path.Combine(folder, "record"), out var notes);
            var state = new WitnessState(held, record, statePath);
            state.Load(notes);
            return state;
        }
        catch
        {
            record?.Dispose();
            held.Dispose();
            throw;
        }
    }

    /// <summary>The hex SHA-256 of an origin: the name of its state file and of its monitoring path.</summary>
    public static string OriginHash(string origin) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)));

    /// <summary>The latest checkpoint cosigned for <paramref name="origin"/>, or null if none.</summary>
    public CosignedCheckpoint? Latest(string origin) => _latest.GetValueOrDefault(origin);

    /// <summary>
    /// Runs <paramref name="decide"/> on the latest cosigned checkpoint of <paramref name="origin"/> (null if none) under
    /// the witness's lock; if it returns a next checkpoint, that is committed (record, then state file) before this
    /// returns its result. Nothing else changes the state between the check and the commit.
    /// </summary>
    public async Task<T> UpdateAsync<T>(string origin, Func<CosignedCheckpoint?, (CosignedCheckpoint? Next, T Result)> decide, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(decide);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var (next, result) = decide(Latest(origin));
            if (next is not null)
            {
                if (!string.Equals(next.Checkpoint.Origin, origin, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"a checkpoint of {next.Checkpoint.Origin} cannot become the state of {origin}");
                }

                _record.Append(next.Note);
                FaultPoint.Reach("witness:recorded");
                // Committed: the next request is checked against it even if the state file below cannot be written.
                _latest[origin] = next;
                DurableFile.Replace(StateFile(origin), next.Note);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private string StateFile(string origin) => Path.Combine(_statePath, OriginHash(origin) + ".checkpoint");

    private void Load(IReadOnlyList<byte[]> recorded)
    {
        foreach (var file in Directory.EnumerateFiles(_statePath, "*.checkpoint"))
        {
            var kept = CosignedCheckpoint.Parse(File.ReadAllBytes(file));
            _latest[kept.Checkpoint.Origin] = kept;
        }

        var lastRecorded = new Dictionary<string, CosignedCheckpoint>(StringComparer.Ordinal);
        foreach (var note in recorded)
        {
            var entry = CosignedCheckpoint.Parse(note);
            lastRecorded[entry.Checkpoint.Origin] = entry;
        }

        foreach (var (origin, entry) in lastRecorded)
        {
            // Only a crash after the record's fsync and before the state file's rename leaves the record ahead; a
            // state file ahead of its record is kept, never rolled back.
            if (Latest(origin) is not { } kept || (entry.Checkpoint.Size >= kept.Checkpoint.Size && !entry.Note.AsSpan().SequenceEqual(kept.Note)))
            {
                DurableFile.Replace(StateFile(origin), entry.Note);
                _latest[origin] = entry;
            }
        }
    }

    /// <summary>Closes the record and releases the folder.</summary>
    public void Dispose()
    {
        _record.Dispose();
        _gate.Dispose();
        _lock.Dispose();
    }
}
