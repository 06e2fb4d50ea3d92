using System.Text;
using LLama.Native;

namespace Sios.Brains.Engines;

/// <summary>
/// Routes llama.cpp's log: warnings and errors go to <see cref="LogSink"/> (when set), the rest is dropped, and
/// the latest problems are kept so a failed load can say what llama.cpp complained about.
/// </summary>
public static class LlamaNative
{
    private const int Kept = 32;
    private static readonly Lock s_gate = new();
    private static readonly Queue<(long Sequence, string Line)> s_problems = new();
    private static readonly ThreadLocal<StringBuilder> s_partial = new(() => new StringBuilder());
    private static long s_sequence;
    private static bool s_installed;

    /// <summary>Receives llama.cpp's warning and error lines; null (the default) keeps them out of the console.</summary>
    public static Action<LLamaLogLevel, string>? LogSink { get; set; }

    /// <summary>Sees every informational line while set (the quantizer reads its progress from them); null the rest of the time.</summary>
    internal static Action<string>? InfoObserver { get; set; }

    /// <summary>
    /// The environment variable naming a folder with a llama.cpp build made for this machine (tools/build-native-llama.sh:
    /// the same llama.cpp commit as the packaged one, compiled for this CPU), used instead of the packaged build.
    /// </summary>
    public const string NativeFolderVariable = "SIOS_LLAMA_NATIVE";

    /// <summary>The folder of the llama.cpp build in use when it is not the packaged one, else null.</summary>
    public static string? NativeFolder => Environment.GetEnvironmentVariable(NativeFolderVariable) is { Length: > 0 } folder ? Path.GetFullPath(folder) : null;

    /// <summary>Installs the log callback (once per process); called before any model is loaded.</summary>
    internal static void EnsureInstalled()
    {
        lock (s_gate)
        {
            if (s_installed)
            {
                return;
            }

            if (NativeFolder is { } folder)
            {
                var library = Path.Combine(folder, "libllama.so");
                if (!File.Exists(library))
                {
                    throw new ModelLoadException($"{NativeFolderVariable} names {folder}, which holds no libllama.so (tools/build-native-llama.sh builds one)");
                }

                // Must precede every native call: LLamaSharp resolves the library once, at the first.
                NativeLibraryConfig.LLama.WithLibrary(library);
            }

            s_installed = true;
        }

        // NativeApi's static constructor is what points the "llama" library at the right native build; a quantizer
        // call reaches llama.cpp through another class first, so it is run here for every caller.
        NativeApi.llama_empty_call();
        NativeLogConfig.llama_log_set(OnLog);
    }

    /// <summary>A marker to pass to <see cref="ProblemsSince"/> later.</summary>
    internal static long Mark()
    {
        lock (s_gate)
        {
            return s_sequence;
        }
    }

    /// <summary>Warning and error lines logged after <paramref name="mark"/>, oldest first, joined for a message.</summary>
    internal static string ProblemsSince(long mark)
    {
        lock (s_gate)
        {
            var lines = s_problems.Where(p => p.Sequence > mark).Select(p => p.Line).ToArray();
            return lines.Length == 0 ? "llama.cpp gave no reason" : "llama.cpp said: " + string.Join(" | ", lines);
        }
    }

    private static void OnLog(LLamaLogLevel level, string message)
    {
        var partial = s_partial.Value!;
        if (level == LLamaLogLevel.Continue)
        {
            partial.Append(message);
            return;
        }

        partial.Clear().Append(message);
        if (level is not (LLamaLogLevel.Warning or LLamaLogLevel.Error))
        {
            if (level == LLamaLogLevel.Info)
            {
                InfoObserver?.Invoke(message);
            }

            return;
        }

        var line = message.TrimEnd('\n');
        lock (s_gate)
        {
            s_problems.Enqueue((++s_sequence, line));
            while (s_problems.Count > Kept)
            {
                s_problems.Dequeue();
            }
        }

        LogSink?.Invoke(level, line);
    }
}
