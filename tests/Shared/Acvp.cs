using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;

namespace Sios.Tests.Shared;

/// <summary>Reads the NIST ACVP ML-DSA vector files (gzip JSON) in place from the shared vectors folder.</summary>
internal static class Acvp
{
    public const string KeyGen = "acvp/ML-DSA-keyGen-FIPS204/internalProjection.json.gz";
    public const string SigGenPrompt = "acvp/ML-DSA-sigGen-FIPS204/prompt.json.gz";
    public const string SigGenExpected = "acvp/ML-DSA-sigGen-FIPS204/expectedResults.json.gz";
    public const string SigVer = "acvp/ML-DSA-sigVer-FIPS204/internalProjection.json.gz";

    private static readonly ConcurrentDictionary<string, JsonElement> Cache = new();

    /// <summary>The testGroups array of a vector file (parsed once per run).</summary>
    public static JsonElement.ArrayEnumerator Groups(string relative) =>
        Cache.GetOrAdd(relative, Load).GetProperty("testGroups").EnumerateArray();

    /// <summary>(group, test) of every case in the groups SIOS runs (pure mode, ML-DSA-44/65); empty without vectors.</summary>
    public static IEnumerable<(JsonElement Group, JsonElement Test)> PureCases(string relative)
    {
        if (Vectors.Root is null)
        {
            yield break;
        }

        foreach (var group in Groups(relative))
        {
            if (Kind(group) == GroupKind.Pure)
            {
                foreach (var test in group.GetProperty("tests").EnumerateArray())
                {
                    yield return (group, test);
                }
            }
        }
    }

    /// <summary>The test case with the given tcId in a vector file.</summary>
    public static (JsonElement Group, JsonElement Test) Case(string relative, int tcId)
    {
        foreach (var group in Groups(relative))
        {
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                if (TcId(test) == tcId)
                {
                    return (group, test);
                }
            }
        }

        throw new InvalidOperationException($"tcId {tcId} is not in {relative}");
    }

    /// <summary>The tcId of a test (ACVP writes it as a number or a string).</summary>
    public static int TcId(JsonElement test)
    {
        var id = test.GetProperty("tcId");
        return id.ValueKind == JsonValueKind.String ? int.Parse(id.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : id.GetInt32();
    }

    /// <summary>A hex property as bytes ("" gives an empty array).</summary>
    public static byte[] Hex(JsonElement element, string name) => Convert.FromHexString(element.GetProperty(name).GetString()!);

    /// <summary>A string property, or null when absent.</summary>
    public static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ToString() : null;

    /// <summary>How SIOS treats an ACVP ML-DSA group: one of the <see cref="GroupKind"/> values.</summary>
    public static GroupKind Kind(JsonElement group)
    {
        var parameterSet = Text(group, "parameterSet");
        if (parameterSet is not ("ML-DSA-44" or "ML-DSA-65"))
        {
            return parameterSet == "ML-DSA-87" ? GroupKind.MlDsa87 : GroupKind.Unknown;
        }

        if (Text(group, "signatureInterface") == "internal")
        {
            return Flag(group, "externalMu") ? GroupKind.ExternalMu : GroupKind.Internal;
        }

        return Text(group, "preHash") switch
        {
            null or "pure" => GroupKind.Pure,
            "preHash" => GroupKind.PreHash,
            _ => GroupKind.Unknown,
        };
    }

    /// <summary>A boolean property written as a JSON bool or as "True"/"False"; false when absent.</summary>
    public static bool Flag(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => bool.Parse(value.GetString()!),
        };
    }

    private static JsonElement Load(string relative)
    {
        using var file = File.OpenRead(Vectors.PathOf(relative));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var document = JsonDocument.Parse(gzip);
        return document.RootElement.Clone();
    }
}

/// <summary>The kinds of ACVP ML-DSA test group, by whether SIOS can express them.</summary>
internal enum GroupKind
{
    /// <summary>ML-DSA-44/65, external interface, pure mode: what SIOS signs and verifies.</summary>
    Pure,

    /// <summary>HashML-DSA (FIPS 204 Algorithm 4/5).</summary>
    PreHash,

    /// <summary>ML-DSA.Sign_internal / Verify_internal over a raw message (no domain separation).</summary>
    Internal,

    /// <summary>ML-DSA.Sign_internal / Verify_internal over a caller-computed μ.</summary>
    ExternalMu,

    /// <summary>The ML-DSA-87 parameter set.</summary>
    MlDsa87,

    /// <summary>Anything this classification does not know (a new ACVP revision).</summary>
    Unknown,
}
