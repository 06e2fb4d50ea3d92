using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Sios.Verify.Attestations;

namespace Sios.Node.Sovereignty;

/// <summary>
/// The files whose digests make up the attested software digest: <c>sios.dll</c> and every <c>Sios.*.dll</c> in the
/// program's folder, plus the native llama.cpp libraries (file names containing <c>llama</c>, <c>ggml</c> or
/// <c>mtmd</c>) beside them or under <c>runtimes/&lt;this platform's RID&gt;/native/</c>. Names are paths relative to
/// the program's folder with '/' separators. Other assemblies (the .NET runtime, NuGet libraries) are not covered.
/// </summary>
internal static class SoftwareInventory
{
    private static readonly string[] NativeMarkers = ["llama", "ggml", "mtmd"];

    /// <summary>The covered files of the running program, sorted by name, each with its SHA-256.</summary>
    public static IReadOnlyList<AttestedComponent> Collect() => Collect(AppContext.BaseDirectory);

    /// <summary>The covered files under <paramref name="folder"/>, sorted by name, each with its SHA-256.</summary>
    public static IReadOnlyList<AttestedComponent> Collect(string folder)
    {
        var files = new List<string>();
        files.AddRange(Directory.EnumerateFiles(folder, "*.dll").Where(f => IsManaged(Path.GetFileName(f))));
        files.AddRange(Directory.EnumerateFiles(folder).Where(IsNative));
        var native = Path.Combine(folder, "runtimes", RuntimeInformation.RuntimeIdentifier, "native");
        if (Directory.Exists(native))
        {
            files.AddRange(Directory.EnumerateFiles(native, "*", SearchOption.AllDirectories).Where(IsNative));
        }

        return [.. files.Distinct(StringComparer.Ordinal)
            .Select(f => new AttestedComponent(Path.GetRelativePath(folder, f).Replace('\\', '/'), Hash(f)))
            .OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    private static bool IsManaged(string name) =>
        name == "sios.dll" || (name.StartsWith("Sios.", StringComparison.Ordinal) && name.EndsWith(".dll", StringComparison.Ordinal));

    private static bool IsNative(string path)
    {
        var name = Path.GetFileName(path);
        return (name.EndsWith(".so", StringComparison.Ordinal) || name.EndsWith(".dylib", StringComparison.Ordinal)
                || (name.EndsWith(".dll", StringComparison.Ordinal) && !IsManaged(name)))
            && NativeMarkers.Any(m => name.Contains(m, StringComparison.OrdinalIgnoreCase));
    }

    private static string Hash(string file)
    {
        using var stream = File.OpenRead(file);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
