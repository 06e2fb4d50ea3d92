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
