namespace Sios.Ledger.State;

/// <summary>
/// One of the operator's state documents (the API keys, the brain registry), kept where every process that serves the
/// same record reads it: a file of the data folder for one node, a row of the log's database for several. Reads are
/// cheap enough to make per request; a change runs under a lock every process and node honours, so two never interleave.
/// </summary>
public interface IStateDocument
{
    /// <summary>Where the document lives, as messages name it (a path, or the database, schema and row).</summary>
    string Location { get; }

    /// <summary>The document as it stands, or null bytes when it has never been written.</summary>
    /// <exception cref="StateUnavailableException">The database holding it cannot be reached.</exception>
    StateDocument Read();

    /// <summary>
    /// Whether the document is still as it was when <paramref name="seen"/> was read: a stat or a one-row query, so a
    /// change made by any process or node is seen at the next call.
    /// </summary>
    bool IsCurrent(StateStamp seen);

    /// <summary>
    /// Reads the document under its lock, runs <paramref name="change"/> on its bytes (null when absent) and stores what
    /// it returns to write (nothing when null), durably and atomically, before the lock is let go. An exception from
    /// <paramref name="change"/> leaves the document as it was.
    /// </summary>
    /// <exception cref="StateBusyException">Another process or node has held the lock too long.</exception>
    /// <exception cref="StateUnavailableException">The database holding it cannot be reached.</exception>
    Task<T> ChangeAsync<T>(Func<byte[]?, CancellationToken, Task<StateChange<T>>> change, CancellationToken cancellationToken = default);
}

/// <summary>What a change stores (null: nothing) and what it returns to its caller.</summary>
public readonly record struct StateChange<T>(byte[]? Write, T Result);

/// <summary>A document's bytes (null when absent) and the stamp that tells a later read whether they changed.</summary>
public sealed record StateDocument(byte[]? Bytes, StateStamp Stamp);

/// <summary>
/// What identifies one version of a document without reading it: a file's length and write time, or a row's version.
/// <see cref="Final"/> is false when the stamp alone cannot prove a later read unchanged (a file written within its
/// timestamps' granularity), so the document is read again.
/// </summary>
public readonly record struct StateStamp(long Size, long Version, bool Final);

/// <summary>The database that holds a state document cannot be reached: nothing is trusted or changed until it can.</summary>
public sealed class StateUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StateUnavailableException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no detail.</summary>
    public StateUnavailableException() { }

    /// <summary>Creates the exception with a message.</summary>
    public StateUnavailableException(string message) : base(message) { }
}

/// <summary>Another process or node has held a state document's lock longer than a change waits for it.</summary>
public sealed class StateBusyException : IOException
{
    /// <summary>Creates the exception.</summary>
    public StateBusyException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no detail.</summary>
    public StateBusyException() { }

    /// <summary>Creates the exception with a message.</summary>
    public StateBusyException(string message) : base(message) { }
}
