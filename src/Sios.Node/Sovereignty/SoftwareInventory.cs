using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Sios.Verify.Attestations;

namespace Sios.Node.Sovereignty;

/// <summary>
/// The files whose digests make up the attested software digest: <c>sios.dll</c> and every <c>Sios.*.dll</c> in the
/// program's folder, plus the native llama.cpp libraries (file names containing <c>llama</c>, <c>ggml</c> or
/// <c>mtmd</c>) beside them or under <c>runtimes/&lt;this platform's RID&gt;/native/</c>. Names are paths relative to
/// the program's folder with '/' separators; with a machine-built llama.cpp in use (<c>SIOS_LLAMA_NATIVE</c>), its
/// libraries too, named <c>SIOS_LLAMA_NATIVE/&lt;file&gt;</c>. Other assemblies (the .NET runtime, NuGet libraries) are
/// not covered.
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

        var components = files.Distinct(StringComparer.Ordinal)
            .Select(f => new AttestedComponent(Path.GetRelativePath(folder, f).Replace('\\', '/'), Hash(f)));
        if (Brains.Engines.LlamaNative.NativeFolder is { } external && Directory.Exists(external))
        {
            // The code that runs the weights is what is attested, wherever it was loaded from.
            components = components.Concat(Directory.EnumerateFiles(external).Where(IsNative)
                .Select(f => new AttestedComponent(Brains.Engines.LlamaNative.NativeFolderVariable + "/" + Path.GetFileName(f), Hash(f))));
        }

        return [.. components.OrderBy(c => c.Name, StringComparer.Ordinal)];
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
