using Sios.Ledger.Durable;

namespace Sios.Ledger.State;

/// <summary>
/// A state document in a file of the data folder, shared by the processes of one node: replaced atomically with mode
/// 0600 (<see cref="DurableFile"/>), changed under a lock file beside it (<see cref="FileLock"/>), and noticed changed by
/// a stat.
/// </summary>
public sealed class FileStateDocument : IStateDocument
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// File timestamps can be as coarse as a second (2 s on FAT), so two writes of the same length may share one; a
    /// stamp is trusted alone only once the file was older than this when it was read.
    /// </summary>
    private static readonly TimeSpan TimestampSlack = TimeSpan.FromSeconds(2);

    private static readonly StateStamp Absent = new(-1, 0, Final: true);

    private readonly string _lockPath;

    /// <summary>The document kept in <paramref name="path"/>, changed under the lock file <paramref name="lockPath"/> (default: the path + <c>.lock</c>).</summary>
    public FileStateDocument(string path, string? lockPath = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Location = Path.GetFullPath(path);
        _lockPath = lockPath is null ? Location + ".lock" : Path.GetFullPath(lockPath);
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <inheritdoc/>
    public StateDocument Read()
    {
        var readAt = DateTime.UtcNow;
        FileStream stream;
        try
        {
            stream = new FileStream(Location, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new StateDocument(null, Absent);
        }

        // One handle gives both the bytes and their stamp, so the two always agree.
        using (stream)
        {
            var written = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return new StateDocument(bytes, new StateStamp(bytes.Length, written.Ticks, readAt - written > TimestampSlack));
        }
    }

    /// <inheritdoc/>
    public bool IsCurrent(StateStamp seen)
    {
        var info = new FileInfo(Location);
        var now = info.Exists ? new StateStamp(info.Length, info.LastWriteTimeUtc.Ticks, true) : Absent;
        return seen.Final && now == seen;
    }

    /// <inheritdoc/>
    public async Task<T> ChangeAsync<T>(Func<byte[]?, CancellationToken, Task<StateChange<T>>> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        cancellationToken.ThrowIfCancellationRequested();
        DurableFile.CreateDirectory(Path.GetDirectoryName(Location)!);
        FileStream held;
        try
        {
            held = await FileLock.AcquireAsync(_lockPath, LockTimeout,
                $"another process has been changing {Location} for {LockTimeout.TotalSeconds:0} s ({_lockPath} is held); try again", cancellationToken).ConfigureAwait(false);
        }
        catch (FileLockBusyException e)
        {
            throw new StateBusyException(e.Message, e);
        }

        await using (held.ConfigureAwait(false))
        {
            var (write, result) = await change(Read().Bytes, cancellationToken).ConfigureAwait(false);
            if (write is not null)
            {
                DurableFile.Replace(Location, write);
            }

            return result;
        }
    }
}
