using System.Runtime.CompilerServices;

namespace Sios.Tests.Shared;

/// <summary>Locates the public test vectors in ../shared/vectors beside the repository (never copied in).</summary>
internal static class Vectors
{
    public static string? Root { get; } = Find();

    public const string AbsentReason =
        "../shared/vectors is absent (a user's clone has no shared/); set SIOS_VECTORS to run the conformance tests";

    public static string PathOf(string relative) =>
        System.IO.Path.Combine(Root ?? throw new InvalidOperationException(AbsentReason), relative);

    private static string? Find([CallerFilePath] string thisFile = "")
    {
        var fromEnv = Environment.GetEnvironmentVariable("SIOS_VECTORS");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return Directory.Exists(fromEnv) ? fromEnv : null;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, System.IO.Path.GetDirectoryName(thisFile) ?? "" })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Sios.sln")))
                {
                    var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir.FullName, "..", "shared", "vectors"));
                    return Directory.Exists(candidate) ? candidate : null;
                }
            }
        }

        return null;
    }
}

/// <summary>A fact that is skipped, with the reason stated, when the shared vectors are absent.</summary>
internal sealed class VectorFactAttribute : FactAttribute
{
    public VectorFactAttribute()
    {
        if (Vectors.Root is null)
        {
            Skip = Vectors.AbsentReason;
        }
    }
}

/// <summary>A theory that is skipped, with the reason stated, when the shared vectors are absent.</summary>
internal sealed class VectorTheoryAttribute : TheoryAttribute
{
    public VectorTheoryAttribute()
    {
        if (Vectors.Root is null)
        {
            Skip = Vectors.AbsentReason;
        }
    }
}
