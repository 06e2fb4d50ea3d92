using System.Text.Json;

namespace Sios.EndToEnd;

/// <summary>
/// The official npm <c>openai</c> client (tests/interop/openai-e2e.mjs, run by node) against the real server: chat,
/// a stream, models, embeddings, JSON mode and tool calls, every answer's receipt then verified here from the recorded bytes.
/// </summary>
public sealed class NpmOpenAiTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [NpmFact]
    public async Task The_npm_openai_client_works_unmodified_and_every_answer_verifies()
    {
        using var report = await RunAsync("openai-e2e.mjs");
        var results = report.RootElement.GetProperty("results");
        Assert.Equal(["clinical", "contracts", "demo", "demo-tools", "ledger"], results.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(64, results.GetProperty("embedding").GetProperty("length").GetInt32());
        Assert.True(results.GetProperty("stream").GetProperty("completion_tokens").GetInt32() > 0);
        Assert.Equal(4, (await VerifyExchangesAsync(report)).Count);
    }

    [NpmFact]
    public async Task The_npm_openai_client_calls_tools_streamed_or_not_and_every_call_is_sealed()
    {
        using var report = await RunAsync("openai-tools-e2e.mjs");
        var results = report.RootElement.GetProperty("results");
        var required = results.GetProperty("required");
        Assert.Equal("tool_calls", required.GetProperty("finish").GetString());
        Assert.Equal(1, required.GetProperty("calls").GetInt32());
        Assert.Equal(JsonValueKind.Null, required.GetProperty("content").ValueKind);
        AssertValidCall(required.GetProperty("name").GetString()!, required.GetProperty("arguments"));

        var stream = results.GetProperty("stream");
        Assert.Equal("tool_calls", stream.GetProperty("finish").GetString());
        Assert.Equal(1, stream.GetProperty("calls").GetInt32());
        Assert.Equal("get_weather", stream.GetProperty("name").GetString());
        Assert.StartsWith("call_", stream.GetProperty("id").GetString(), StringComparison.Ordinal);
        AssertValidCall("get_weather", stream.GetProperty("arguments"));

        // The arguments arrive as they are generated, in several fragments, not whole once the call is done.
        Assert.True(stream.GetProperty("fragments").GetInt32() > 1, stream.GetRawText());

        var loop = results.GetProperty("loop");
        Assert.Equal("length", loop.GetProperty("finish").GetString());
        Assert.Equal(JsonValueKind.Null, loop.GetProperty("tool_calls").ValueKind);
        Assert.False(string.IsNullOrEmpty(loop.GetProperty("content").GetString()));

        var entries = await VerifyExchangesAsync(report);
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal(2, e.GetProperty("tools").GetProperty("offered").GetInt32()));
        Assert.Equal([required.GetProperty("name").GetString()], entries[0].GetProperty("tools").GetProperty("called").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal("stop", entries[0].GetProperty("finish").GetString());
        Assert.Equal(["get_weather"], entries[1].GetProperty("tools").GetProperty("called").EnumerateArray().Select(n => n.GetString()));
        Assert.True(entries[1].GetProperty("stream").GetBoolean());
        Assert.Empty(entries[2].GetProperty("tools").GetProperty("called").EnumerateArray());

        // Names only: the arguments stay inside the response commitment.
        Assert.DoesNotContain("Paris", string.Concat(entries.Select(e => e.GetRawText())), StringComparison.Ordinal);
    }

    [NpmFact]
    public async Task LangChain_and_the_AI_SDK_run_tool_calling_agents_unmodified_and_every_round_verifies()
    {
        using var report = await RunAsync("agents-e2e.mjs");
        var results = report.RootElement.GetProperty("results");
        var bound = results.GetProperty("bindTools").GetProperty("calls");
        Assert.NotEqual(0, bound.GetArrayLength());
        foreach (var call in bound.EnumerateArray())
        {
            AssertValidCall(call.GetProperty("name").GetString()!, call.GetProperty("args"));
        }

        // withStructuredOutput(functionCalling) is a forced call of a 'report' function, read back as the object.
        AssertValidCall("get_weather", results.GetProperty("structured"));

        var generated = results.GetProperty("generateText");
        Assert.Equal(2, generated.GetProperty("steps").GetInt32());
        Assert.True(generated.GetProperty("executed").GetInt32() >= 1);
        Assert.Equal("tool-calls", generated.GetProperty("firstFinish").GetString());
        foreach (var call in generated.GetProperty("calls").EnumerateArray())
        {
            AssertValidCall(call.GetProperty("name").GetString()!, call.GetProperty("input"));
        }

        var entries = await VerifyExchangesAsync(report);
        Assert.Equal(4, entries.Count);
        Assert.Equal(["stop", "stop", "stop"], entries.Take(3).Select(e => e.GetProperty("finish").GetString()));
        Assert.Equal("report", entries[1].GetProperty("tools").GetProperty("called")[0].GetString());
        Assert.Empty(entries[3].GetProperty("tools").GetProperty("called").EnumerateArray());
    }

    private static void AssertValidCall(string name, JsonElement arguments)
    {
        if (name == "get_weather")
        {
            Assert.Contains(arguments.GetProperty("city").GetString(), new[] { "Paris", "Oslo", "Lima" });
            Assert.Equal(JsonValueKind.Number, arguments.GetProperty("days").ValueKind);
        }
        else
        {
            Assert.Equal("add", name);
            Assert.Equal(JsonValueKind.Number, arguments.GetProperty("a").ValueKind);
            Assert.Equal(JsonValueKind.Number, arguments.GetProperty("b").ValueKind);
        }
    }

    private Task<JsonDocument> RunAsync(string script) => NpmScripts.RunAsync(demo, script);

    private Task<List<JsonElement>> VerifyExchangesAsync(JsonDocument report) => NpmScripts.VerifyExchangesAsync(demo, report);
}

/// <summary>Runs only where node and every package of tests/interop/package.json are installed (.ci/run installs them).</summary>
public sealed class NpmFactAttribute : FactAttribute
{
    public NpmFactAttribute()
    {
        if (NpmClient.Folder is null)
        {
            Skip = "node or a package of tests/interop/package.json is missing: run 'npm install' in tests/interop (.ci/run does)";
        }
    }
}

internal static class NpmClient
{
    public static string? Folder { get; } = FolderOf("tests/interop");

    /// <summary>The console's folder (web/console) when node and its packages are there: its verifier is run from it.</summary>
    public static string? ConsoleFolder { get; } = FolderOf("web/console");

    /// <summary>The npm folder <paramref name="relative"/> to the repository when every dependency it lists is installed and node is on the PATH.</summary>
    private static string? FolderOf(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sios.sln")))
            {
                var folder = Path.Combine(dir.FullName, relative);
                using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "package.json")));
                var installed = manifest.RootElement.GetProperty("dependencies").EnumerateObject()
                    .All(d => Directory.Exists(Path.Combine(folder, "node_modules", d.Name)));
                var node = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(p => File.Exists(Path.Combine(p, "node")));
                return installed && node ? folder : null;
            }
        }

        return null;
    }
}
