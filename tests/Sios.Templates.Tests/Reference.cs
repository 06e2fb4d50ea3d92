using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sios.Templates.Tests;

/// <summary>One template rendering: the source, the variables and a name for messages.</summary>
public sealed record RenderCase(string Id, string Template, JsonObject Variables);

/// <summary>What the reference gave for a case: the text, or the error it threw.</summary>
public sealed record ReferenceResult(string? Text, string? Error);

/// <summary>
/// The reference renderer, @huggingface/jinja, run by node over tests/interop/render-templates.mjs: every case of the
/// test run goes through one node process, once.
/// </summary>
internal static class Reference
{
    /// <summary>The instant both renderers see for strftime_now (node runs with TZ=UTC, our clock is UTC).</summary>
    public static readonly DateTimeOffset Now = new(2026, 3, 7, 9, 5, 0, TimeSpan.Zero);

    public static string? Folder { get; } = Find();

    public const string MissingReason =
        "node or tests/interop/node_modules/@huggingface/jinja is missing: run 'npm install' in tests/interop (.ci/run does)";

    private static readonly Lazy<IReadOnlyDictionary<string, ReferenceResult>> All = new(() => Run(AllCases.Get()));

    public static ReferenceResult For(string id) => All.Value[id];

    public static ChatTemplateOptions Options { get; } = new() { Clock = new FixedClock(Now) };

    private static Dictionary<string, ReferenceResult> Run(IReadOnlyList<RenderCase> cases)
    {
        var input = new JsonObject
        {
            ["now"] = Now.ToString("O"),
            ["cases"] = new JsonArray([.. cases.Select(c => (JsonNode)new JsonObject { ["template"] = c.Template, ["variables"] = c.Variables.DeepClone() })]),
        };
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Folder!,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("render-templates.mjs");
        info.Environment["TZ"] = "UTC";
        info.Environment["LC_ALL"] = "en_US.UTF-8";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input.ToJsonString());
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the reference renderer (node) took more than 2 minutes");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node render-templates.mjs failed ({process.ExitCode}): {stderr.Result}");
        }

        var results = ResultReader.Read(stdout.Result);
        var byId = new Dictionary<string, ReferenceResult>(StringComparer.Ordinal);
        for (var i = 0; i < cases.Count; i++)
        {
            byId.Add(cases[i].Id, results[i]);
        }

        return byId;
    }

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sios.sln")))
            {
                var folder = Path.Combine(dir.FullName, "tests", "interop");
                var installed = File.Exists(Path.Combine(folder, "node_modules", "@huggingface", "jinja", "package.json"));
                var node = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(p => File.Exists(Path.Combine(p, "node")));
                return installed && node ? folder : null;
            }
        }

        return null;
    }
}

/// <summary>
/// Reads the script's output, [{"text": ...} | {"error": ...}], by hand: a rendering may hold a lone surrogate (a
/// template can index half of an emoji), which JSON.stringify writes as \udXXX and System.Text.Json refuses to decode.
/// </summary>
internal static class ResultReader
{
    public static List<ReferenceResult> Read(string json)
    {
        var results = new List<ReferenceResult>();
        var i = 0;
        Expect(json, ref i, '[');
        while (Peek(json, ref i) != ']')
        {
            Expect(json, ref i, '{');
            var key = ReadString(json, ref i);
            Expect(json, ref i, ':');
            var value = ReadString(json, ref i);
            Expect(json, ref i, '}');
            results.Add(key == "text" ? new ReferenceResult(value, null) : new ReferenceResult(null, value));
            if (Peek(json, ref i) == ',')
            {
                i++;
            }
        }

        return results;
    }

    private static char Peek(string json, ref int i)
    {
        while (char.IsWhiteSpace(json[i]))
        {
            i++;
        }

        return json[i];
    }

    private static void Expect(string json, ref int i, char c)
    {
        if (Peek(json, ref i) != c)
        {
            throw new FormatException($"expected '{c}' at {i} in the reference's output");
        }

        i++;
    }

    private static string ReadString(string json, ref int i)
    {
        Expect(json, ref i, '"');
        var text = new StringBuilder();
        while (json[i] != '"')
        {
            if (json[i] != '\\')
            {
                text.Append(json[i++]);
                continue;
            }

            var escape = json[i + 1];
            i += 2;
            if (escape == 'u')
            {
                text.Append((char)Convert.ToInt32(json.Substring(i, 4), 16));
                i += 4;
                continue;
            }

            text.Append(escape switch { 'b' => '\b', 'f' => '\f', 'n' => '\n', 'r' => '\r', 't' => '\t', _ => escape });
        }

        i++;
        return text.ToString();
    }
}

/// <summary>A clock stopped at one instant, in UTC (so "local" time is UTC, as for node with TZ=UTC).</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}

/// <summary>Compares our rendering of a case with the reference's, byte for byte, or error for error.</summary>
internal static class Conformance
{
    public static void Check(RenderCase c)
    {
        var expected = Reference.For(c.Id);
        string? actual = null;
        ChatTemplateException? failure = null;
        try
        {
            actual = ChatTemplate.Parse(c.Template).Render(c.Variables, Reference.Options);
        }
        catch (ChatTemplateException e)
        {
            failure = e;
        }

        if (expected.Error is not null)
        {
            Assert.True(failure is not null, $"{c.Id}: the reference fails ({expected.Error}) but we rendered:\n{actual}");
            return;
        }

        Assert.True(failure is null, $"{c.Id}: we failed ({failure?.Message}) but the reference rendered:\n{expected.Text}");
        if (actual != expected.Text)
        {
            Assert.Fail($"{c.Id}: output differs from the reference\n{Diff.Describe(expected.Text!, actual!)}");
        }
    }
}

/// <summary>A readable account of where two texts first differ.</summary>
internal static class Diff
{
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Describe(string expected, string actual)
    {
        var at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at])
        {
            at++;
        }

        var line = expected.AsSpan(0, Math.Min(at, expected.Length)).Count('\n') + 1;
        return $"first difference at offset {at} (line {line}; lengths {expected.Length} expected, {actual.Length} actual)\n" +
               $"  expected: {Around(expected, at)}\n" +
               $"  actual:   {Around(actual, at)}";
    }

    private static string Around(string text, int at)
    {
        var start = Math.Max(0, at - 60);
        var end = Math.Min(text.Length, at + 60);
        return JsonSerializer.Serialize(text[start..at], Readable) + " >>> " + JsonSerializer.Serialize(text[at..end], Readable);
    }
}

/// <summary>A theory run only where node and the reference package are installed.</summary>
internal sealed class ReferenceTheoryAttribute : TheoryAttribute
{
    public ReferenceTheoryAttribute()
    {
        if (Reference.Folder is null)
        {
            Skip = Reference.MissingReason;
        }
    }
}

/// <summary>A theory run only where the shared vectors, node and the reference package are all present.</summary>
internal sealed class TemplateVectorTheoryAttribute : TheoryAttribute
{
    public TemplateVectorTheoryAttribute()
    {
        if (Sios.Tests.Shared.Vectors.Root is null)
        {
            Skip = Sios.Tests.Shared.Vectors.AbsentReason;
        }
        else if (Reference.Folder is null)
        {
            Skip = Reference.MissingReason;
        }
    }
}
