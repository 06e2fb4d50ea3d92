using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Xunit.Abstractions;

namespace Sios.EndToEnd;

/// <summary>
/// Issue 11: response_format schemas that crashed the real server (left recursion in llama.cpp's grammar), grew its memory
/// without bound (contradictory bounds) or stalled every key (a huge enum), sent from outside with a user key. Each gets
/// a 400 naming the keyword within a watchdog time, and the process stays up with its memory bounded.
/// </summary>
public sealed class SchemaBombTests(ServedDemo demo, ITestOutputHelper output) : IClassFixture<ServedDemo>
{
    /// <summary>Every request here must answer within this (the old stall was ~14 s; a crash or a runaway never answers).</summary>
    private static readonly TimeSpan Watchdog = TimeSpan.FromSeconds(20);

    /// <summary>Growth of the server's resident memory over all bombs: the contradictory bounds grew it ~300 MB/s.</summary>
    private const long MaxGrowthBytes = 256L << 20;

    public static TheoryData<string, string, string> Bombs => new()
    {
        { "self $ref", """{"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", "$ref" },
        { "self $ref through anyOf", """{"$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", "anyOf" },
        { "self $ref through oneOf", """{"$defs":{"a":{"oneOf":[{"type":"null"},{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}""", "oneOf" },
        { "$ref chain a->b->a", """{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}""", "$ref '#/$defs/b'" },
        { "no base case", """{"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"},"minItems":1}},"$ref":"#/$defs/n"}""", "$ref" },
        { "minLength over maxLength", """{"type":"string","minLength":5,"maxLength":2}""", "minLength" },
        { "minItems over maxItems", """{"type":"array","minItems":5,"maxItems":2}""", "minItems" },
        { "minimum over maximum", """{"type":"number","minimum":5,"maximum":2}""", "minimum" },
        { "huge maxLength", """{"type":"string","maxLength":1000000000}""", "maxLength" },
        { "100,000-value enum", JsonSerializer.Serialize(new { @enum = Enumerable.Range(0, 100_000).Select(i => "value" + i.ToString(CultureInfo.InvariantCulture)) }), "enum" },
        { "alike alternatives recursing", """{"$defs":{"n":{"anyOf":[{"type":"array","items":{"$ref":"#/$defs/n"}},{"type":"array","items":{"$ref":"#/$defs/n"}}]}},"$ref":"#/$defs/n"}""", "anyOf" },
    };

    private static string Chat(string schema, int maxTokens = 8) =>
        """{"model":"clinical","messages":[{"role":"user","content":"Answer in JSON."}],"max_tokens":""" + maxTokens.ToString(CultureInfo.InvariantCulture) +
        ""","response_format":{"type":"json_schema","json_schema":{"name":"bomb","schema":""" + schema + "}}}";

    [Fact]
    public async Task Each_schema_bomb_gets_a_400_naming_its_keyword_and_the_server_lives_on_with_bounded_memory()
    {
        var key = await UserKeyAsync("bomber");
        using var client = ClientFor(key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Json(Chat("""{"type":"string","maxLength":4}""")))).StatusCode);
        var before = Rss();

        foreach (var (what, schema, keyword) in Bombs.Select(row => ((string)row[0], (string)row[1], (string)row[2])))
        {
            var clock = Stopwatch.StartNew();
            using var response = await client.PostAsync("/v1/chat/completions", Json(Chat(schema)));
            clock.Stop();
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {body}");
            using var error = JsonDocument.Parse(body);
            var message = error.RootElement.GetProperty("error").GetProperty("message").GetString()!;
            Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains(keyword, message, StringComparison.Ordinal);
            output.WriteLine($"{what}: 400 in {clock.Elapsed.TotalMilliseconds:F0} ms");
            Assert.True(clock.Elapsed < Watchdog, $"{what}: answered after {clock.Elapsed}");
            Assert.True(Alive(), $"{what}: the server died: {demo.Stderr}");
        }

        var growth = Rss() - before;
        output.WriteLine($"RSS {before >> 20} MiB before the bombs, grew by {growth >> 10} KiB");
        Assert.True(growth < MaxGrowthBytes, $"the server's RSS grew by {growth >> 20} MiB over the bombs");
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/chat/completions", Json(Chat("""{"type":"boolean"}""")))).StatusCode);
    }

    [Fact]
    public async Task The_worst_allowed_schema_does_not_stall_another_key()
    {
        var heavy = ClientFor(await UserKeyAsync("heavy"));
        var other = ClientFor(await UserKeyAsync("other"));
        var plain = """{"model":"clinical","messages":[{"role":"user","content":"Hello"}],"max_tokens":16}""";
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/v1/chat/completions", Json(plain))).StatusCode);

        // As many alternatives as the budget allows, all beginning alike for 100 characters, and the largest grammar.
        var worst = new[]
        {
            JsonSerializer.Serialize(new { anyOf = Enumerable.Range(0, JsonSchemaLimits.MaxParallelPaths).Select(i => new { @const = new string('p', 100) + i.ToString(CultureInfo.InvariantCulture) }) }),
            JsonSerializer.Serialize(new { type = "object", properties = Enumerable.Range(0, 80).ToDictionary(i => "p" + i.ToString(CultureInfo.InvariantCulture), _ => new { type = "string", maxLength = JsonSchemaLimits.MaxRepeat }) }),
        };
        foreach (var schema in worst)
        {
            var clock = Stopwatch.StartNew();
            var bomb = heavy.PostAsync("/v1/chat/completions", Json(Chat(schema, maxTokens: 64)));
            var latency = Stopwatch.StartNew();
            using var answer = await other.PostAsync("/v1/chat/completions", Json(plain));
            latency.Stop();
            using var bombed = await bomb;
            output.WriteLine($"other key {latency.Elapsed.TotalMilliseconds:F0} ms beside a worst-allowed schema request of {clock.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.True(bombed.StatusCode == HttpStatusCode.OK, await bombed.Content.ReadAsStringAsync());
            Assert.True(latency.Elapsed < TimeSpan.FromSeconds(5), $"the other key waited {latency.Elapsed} beside the worst allowed schema");
            Assert.True(clock.Elapsed < Watchdog, $"the worst allowed schema took {clock.Elapsed}");
        }

        Assert.True(Alive(), demo.Stderr);
        heavy.Dispose();
        other.Dispose();
    }

    private async Task<string> UserKeyAsync(string name)
    {
        var created = await SiosCli.RunAsync("key", "create", name, "--brains", "clinical", "--data", demo.Data);
        Assert.True(created.ExitCode == 0, created.Err);
        return created.Out.Trim();
    }

    private HttpClient ClientFor(string key)
    {
        var client = demo.Client(key);
        client.Timeout = Watchdog;
        return client;
    }

    private static ByteArrayContent Json(string body) => new(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = new("application/json") } };

    private bool Alive()
    {
        try
        {
            return !Process.GetProcessById(demo.Pid).HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The server's resident memory, from /proc/PID/status (VmRSS, in kB).</summary>
    private long Rss()
    {
        var line = File.ReadLines($"/proc/{demo.Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
