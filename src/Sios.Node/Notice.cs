using System.Diagnostics;

namespace Sios.Node;

/// <summary>What kind of failure a <see cref="NodeException"/> is, so each front end can answer it its own way (an exit code, a status).</summary>
internal enum NodeFailure
{
    /// <summary>The node could not do it: no data folder, a passphrase missing or wrong, an I/O error.</summary>
    CouldNotRun,

    /// <summary>The request itself is wrong: a bad argument or option value.</summary>
    Usage,

    /// <summary>The stored state disagrees with what it signed or vouched for: refused.</summary>
    Integrity,

    /// <summary>What was to be checked or disclosed does not match what was sealed.</summary>
    Invalid,
}

/// <summary>A failure the operator can act on; the message says what and how.</summary>
internal sealed class NodeException(string message, NodeFailure failure = NodeFailure.CouldNotRun, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The kind of failure.</summary>
    public NodeFailure Failure { get; } = failure;
}

/// <summary>The node's messages for the operator: stderr, one line each, never mixed with a command's result on stdout.</summary>
internal static class Notice
{
    /// <summary>Writes one line to stderr.</summary>
    public static void Write(string line) => Console.Error.Write(line + "\n");
}

/// <summary>A progress bar on stderr, drawn only when stderr is a terminal and at most ten times a second.</summary>
internal sealed class ProgressBar(long total, string unit) : IProgress<long>, IDisposable
{
    private readonly bool _enabled = !Console.IsErrorRedirected && total > 0;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -1_000;

    public void Report(long value)
    {
        if (!_enabled || (_clock.ElapsedMilliseconds - _lastDraw < 100 && value < total))
        {
            return;
        }

        _lastDraw = _clock.ElapsedMilliseconds;
        const int width = 30;
        var fraction = Math.Clamp((double)value / total, 0, 1);
        var filled = (int)(fraction * width);
        var rate = value / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        Console.Error.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {fraction,4:P0} {value:N0}/{total:N0} {unit} ({rate:N0}/s)");
    }

    public void Dispose()
    {
        if (_enabled)
        {
            Console.Error.Write("\n");
        }
    }
}
