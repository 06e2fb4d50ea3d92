using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sios.Brains.Engines;
using Sios.Brains.Pool;

namespace Sios.Bench.Server;

/// <summary>One non-streamed answer: its text, its token counts and, through the gateway, the log index it was sealed at.</summary>
internal sealed record Answer(string Text, int PromptTokens, int CompletionTokens, long LogIndex);

/// <summary>One streamed answer: time to the first text, tokens per second from the first text to the last and from the request to the last, and what was counted.</summary>
internal sealed record StreamRun(double FirstTokenMs, double TokensPerSecond, double EndToEndTokensPerSecond, int Tokens, int Chunks)
{
    /// <summary>The run from its timestamps: request start, first and last piece of text.</summary>
    public static StreamRun From(long start, long first, long last, int tokens, int chunks)
    {
        if (chunks < 2 || tokens < 2)
        {
            throw new InvalidOperationException($"the stream gave {tokens} token(s) in {chunks} piece(s) of text, too few to time: raise --stream-tokens.");
        }

        // The first text ends prompt processing; the tokens after it all arrive inside the timed span.
        var span = Stopwatch.GetElapsedTime(first, last).TotalSeconds;
        return new StreamRun(
            Stopwatch.GetElapsedTime(start, first).TotalMilliseconds, (tokens - 1) / span, tokens / Stopwatch.GetElapsedTime(start, last).TotalSeconds, tokens, chunks);
    }
}

/// <summary>Latencies and token counts of one mode, gathered over several timed rounds.</summary>
internal sealed class Samples
{
    private readonly List<double> _latencies = [];
    private double[]? _sorted;

    /// <summary>Requests completed.</summary>
    public int Count => _latencies.Count;

    /// <summary>Wall time of all rounds together.</summary>
    public double Seconds { get; private set; }

    /// <summary>Completion tokens of all requests together.</summary>
    public long Tokens { get; private set; }

    /// <summary>Completed requests per second of wall time.</summary>
    public double RequestsPerSecond => Count / Seconds;

    /// <summary>Median latency in ms.</summary>
    public double P50 => Percentile(0.50);

    /// <summary>99th percentile latency in ms.</summary>
    public double P99 => Percentile(0.99);

    /// <summary>Adds one round.</summary>
    public void Add(IEnumerable<double> latencies, double seconds, long tokens)
    {
        _latencies.AddRange(latencies);
        Seconds += seconds;
        Tokens += tokens;
        _sorted = null;
    }

    /// <summary>The report object of this mode.</summary>
    public JsonObject ToJson() => new()
    {
        ["requests"] = Count,
        ["rps"] = Math.Round(RequestsPerSecond, 1),
        ["p50_ms"] = Math.Round(P50, 3),
        ["p99_ms"] = Math.Round(P99, 3),
        ["mean_completion_tokens"] = Math.Round((double)Tokens / Count, 2),
    };

    private double Percentile(double p)
    {
        _sorted ??= [.. _latencies.Order()];
        return _sorted.Length == 0
            ? throw new InvalidOperationException("no request completed in the timed rounds: raise --seconds.")
            : _sorted[Math.Min(_sorted.Length - 1, (int)(p * _sorted.Length))];
    }
}

/// <summary>A client of the gateway's <c>/v1/chat/completions</c>, reading answers as an OpenAI client would.</summary>
internal sealed class GatewayClient(HttpClient http, string model)
{
    private const string Route = "v1/chat/completions";

    /// <summary>The Server-Timing of each non-streamed answer since the last <see cref="TakeTimings"/>: name to milliseconds.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<Dictionary<string, double>> _timings = new();

    /// <summary>Returns and forgets the Server-Timing figures gathered so far.</summary>
    public List<Dictionary<string, double>> TakeTimings()
    {
        var taken = new List<Dictionary<string, double>>();
        while (_timings.TryDequeue(out var timing))
        {
            taken.Add(timing);
        }

        return taken;
    }

    /// <summary>The request body: one user message, greedy sampling with a fixed seed.</summary>
    public byte[] Body(string prompt, int maxTokens, uint seed, bool stream)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteStartArray("messages");
            json.WriteStartObject();
            json.WriteString("role", "user");
            json.WriteString("content", prompt);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteNumber("max_tokens", maxTokens);
            json.WriteNumber("temperature", 0);
            json.WriteNumber("seed", seed);
            if (stream)
            {
                json.WriteBoolean("stream", true);
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Posts a non-streamed request and reads the whole answer and its receipt index.</summary>
    public async Task<Answer> AnswerAsync(byte[] body)
    {
        using var content = Content(body);
        using var response = await http.PostAsync(new Uri(Route, UriKind.Relative), content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"the gateway answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }

        using var doc = JsonDocument.Parse(bytes);
        var root = doc.RootElement;
        var usage = root.GetProperty("usage");
        var index = long.Parse(response.Headers.GetValues("Sios-Log-Index").Single(), CultureInfo.InvariantCulture);
        if (response.Headers.TryGetValues("Server-Timing", out var timing))
        {
            _timings.Enqueue(ParseServerTiming(string.Join(',', timing)));
        }

        return new Answer(
            root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "",
            usage.GetProperty("prompt_tokens").GetInt32(),
            usage.GetProperty("completion_tokens").GetInt32(),
            index);
    }

    /// <summary>GET /healthz: the gateway's cheapest round trip (no key, no body to parse, no seal).</summary>
    public async Task HealthAsync()
    {
        using var response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"/healthz answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        }
    }

    /// <summary>Posts a streamed request and times its server-sent events as they arrive.</summary>
    public async Task<StreamRun> StreamAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Route, UriKind.Relative)) { Content = Content(body) };
        var start = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"the gateway answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        await using var stream = await response.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        long first = 0, last = 0;
        var chunks = 0;
        int? tokens = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            if (line == "data: [DONE]")
            {
                return StreamRun.From(start, first, last, tokens ?? throw new InvalidOperationException("the gateway's stream had no usage chunk."), chunks);
            }

            var now = Stopwatch.GetTimestamp();
            using var doc = JsonDocument.Parse(line.AsMemory(6));
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                throw new InvalidOperationException($"the gateway's stream failed: {error}");
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
            {
                tokens = usage.GetProperty("completion_tokens").GetInt32();
            }

            var choices = root.GetProperty("choices");
            if (choices.GetArrayLength() > 0 && choices[0].GetProperty("delta").TryGetProperty("content", out var text) && text.GetString() is { Length: > 0 })
            {
                first = chunks++ == 0 ? now : first;
                last = now;
            }
        }

        throw new InvalidOperationException("the gateway's stream ended without data: [DONE].");
    }

    /// <summary>Reads <c>name;dur=ms</c> metrics of a W3C Server-Timing header.</summary>
    private static Dictionary<string, double> ParseServerTiming(string header)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = metric.Split(';', StringSplitOptions.TrimEntries);
            var duration = parts.Skip(1).FirstOrDefault(p => p.StartsWith("dur=", StringComparison.Ordinal));
            if (duration is not null && double.TryParse(duration.AsSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                metrics[parts[0]] = ms;
            }
        }

        return metrics;
    }

    private static ByteArrayContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}

/// <summary>The baseline: the same brain from the same pool, asked in-process as the gateway asks it.</summary>
internal sealed class DirectClient(BrainPool pool, string brain)
{
    /// <summary>Leases the engine, collects the whole answer, releases the lease (as a non-streamed gateway answer does).</summary>
    public async Task<Answer> AnswerAsync(ChatRequest request)
    {
        var text = new StringBuilder();
        await using var lease = await pool.AcquireAsync(brain);
        await foreach (var update in lease.Engine.GenerateAsync(request, CancellationToken.None))
        {
            text.Append(update.Text);
            if (update.IsFinal)
            {
                return new Answer(text.ToString(), update.Usage!.PromptTokens, update.Usage.CompletionTokens, -1);
            }
        }

        throw new InvalidOperationException("the engine ended a stream without a final update.");
    }

    /// <summary>Leases the engine and times its updates as they are generated.</summary>
    public async Task<StreamRun> StreamAsync(ChatRequest request)
    {
        var start = Stopwatch.GetTimestamp();
        await using var lease = await pool.AcquireAsync(brain);
        long first = 0, last = 0;
        var chunks = 0;
        await foreach (var update in lease.Engine.GenerateAsync(request, CancellationToken.None))
        {
            var now = Stopwatch.GetTimestamp();
            if (update.Text.Length > 0)
            {
                first = chunks++ == 0 ? now : first;
                last = now;
            }

            if (update.IsFinal)
            {
                return StreamRun.From(start, first, last, update.Usage!.CompletionTokens, chunks);
            }
        }

        throw new InvalidOperationException("the engine ended a stream without a final update.");
    }
}
