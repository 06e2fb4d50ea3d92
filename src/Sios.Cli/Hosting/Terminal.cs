using System.Diagnostics;

namespace Sios.Cli.Hosting;

/// <summary>stdout carries only a command's result; everything meant for a person goes to stderr.</summary>
internal static class Terminal
{
    public static void Result(string line) => Console.Out.Write(line + "\n");

    public static void ResultBytes(ReadOnlySpan<byte> bytes)
    {
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(bytes);
        stdout.Flush();
    }

    public static void Message(string line) => Console.Error.Write(line + "\n");
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
