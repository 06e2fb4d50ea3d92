using System.Net;
using System.Net.Sockets;
using System.Text;
using Sios.Brains.Engines;
using Sios.Brains.Upstream;
using static Sios.Brains.Tests.Upstream.StubUpstream;

namespace Sios.Brains.Tests.Upstream;

public sealed class UpstreamEngineTests : IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly StubUpstream _stub = StubUpstream.Start();

    public void Dispose() => _stub.Dispose();

    private UpstreamEngine Engine(string ip = "127.0.0.1", TimeSpan? timeout = null, string[]? allow = null, string? apiKey = null) => new(
        new UpstreamOptions
        {
            BaseAddress = _stub.Address(ip), Model = "stub-model", ApiKey = apiKey, Timeout = timeout ?? TimeSpan.FromSeconds(30),
        },
        new EgressAllowList(allow ?? ["127.0.0.1"]));

    private static ChatRequest Request(params string[] stop) => new()
    {
        Messages = [new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hello?")],
        MaxTokens = 7,
        Temperature = 0.25f,
        TopP = 0.5f,
        Seed = 9,
        Stop = stop,
    };

    private static async Task<(string Text, List<GenerationUpdate> Updates)> CollectAsync(UpstreamEngine engine, ChatRequest request, CancellationToken ct = default)
    {
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(ct);
        guard.CancelAfter(Guard);
        var updates = new List<GenerationUpdate>();
        await foreach (var u in engine.GenerateAsync(request, guard.Token))
        {
            updates.Add(u);
        }

        return (string.Concat(updates.Select(u => u.Text)), updates);
    }

    [Fact]
    public async Task Streamed_text_is_assembled_with_finish_reason_and_usage()
    {
        _stub.Respond = c => Sse(c, [Chunk(role: "assistant"), Chunk("Hel"), ": keep-alive\n\n", Chunk("lo, "), Chunk("wörld"), Chunk(finish: "length"), UsageChunk(21, 4), Done]);
        await using var engine = Engine(apiKey: "secret-token");

        var (text, updates) = await CollectAsync(engine, Request("END"));

        Assert.Equal("Hello, wörld", text);
        var final = Assert.Single(updates, u => u.IsFinal);
        Assert.Same(updates[^1], final);
        Assert.Equal(FinishReason.Length, final.FinishReason);
        Assert.Equal(new Usage(21, 4), final.Usage);
        Assert.Equal("stub-model", engine.ModelId);

        var sent = Assert.Single(_stub.Requests);
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal("Bearer secret-token", sent.Authorization);
        Assert.Equal("stub-model", sent.Body.GetProperty("model").GetString());
        Assert.True(sent.Body.GetProperty("stream").GetBoolean());
        Assert.True(sent.Body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(7, sent.Body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.25, sent.Body.GetProperty("temperature").GetDouble(), 5);
        Assert.Equal(0.5, sent.Body.GetProperty("top_p").GetDouble(), 5);
        Assert.Equal(9u, sent.Body.GetProperty("seed").GetUInt32());
        Assert.Equal("END", sent.Body.GetProperty("stop")[0].GetString());
        Assert.Equal("Hello?", sent.Body.GetProperty("messages")[1].GetProperty("content").GetString());
        Assert.False(sent.Body.TryGetProperty("response_format", out _));
    }

    [Theory]
    [InlineData("stop", FinishReason.Stop)]
    [InlineData("length", FinishReason.Length)]
    public async Task Finish_reason_is_mapped_and_crlf_multiline_events_are_read(string finish, FinishReason expected)
    {
        // CRLF line ends, and the finish chunk split over two data lines (joined with a newline, which JSON allows).
        var split = Chunk(finish: finish).Replace("\"finish_reason\"", "\n\"finish_reason\"", StringComparison.Ordinal)
            .Replace("\n\"finish_reason\"", "\ndata: \"finish_reason\"", StringComparison.Ordinal);
        _stub.Respond = c => Sse(c, [Chunk("a").Replace("\n", "\r\n", StringComparison.Ordinal), split]);
        await using var engine = Engine();

        var (text, updates) = await CollectAsync(engine, Request());

        Assert.Equal("a", text);
        Assert.Equal(expected, updates[^1].FinishReason);
        Assert.Null(updates[^1].Usage);
    }

    [Fact]
    public async Task Json_response_formats_are_forwarded()
    {
        _stub.Respond = c => Sse(c, [Chunk("{}", "stop"), Done]);
        await using var engine = Engine();

        await CollectAsync(engine, Request() with { ResponseFormat = ResponseFormat.JsonObject });
        await CollectAsync(engine, Request() with { ResponseFormat = ResponseFormat.JsonSchema("""{"type":"object","required":["a"]}""") });

        var sent = _stub.Requests.ToArray();
        Assert.Equal("json_object", sent[0].Body.GetProperty("response_format").GetProperty("type").GetString());
        var schema = sent[1].Body.GetProperty("response_format");
        Assert.Equal("json_schema", schema.GetProperty("type").GetString());
        Assert.Equal("a", schema.GetProperty("json_schema").GetProperty("schema").GetProperty("required")[0].GetString());
        await Assert.ThrowsAsync<ArgumentException>(() =>
            CollectAsync(engine, Request() with { ResponseFormat = ResponseFormat.JsonSchema("{not json") }));
    }

    [Fact]
    public async Task Embeddings_are_parsed_in_input_order_and_normalised()
    {
        _stub.Respond = c => Json(c, 200, """
            {"object":"list","model":"stub-model","data":[
              {"object":"embedding","index":1,"embedding":[0,3,4]},
              {"object":"embedding","index":0,"embedding":[2,0,0]}],
             "usage":{"prompt_tokens":4,"total_tokens":4}}
            """);
        await using var engine = Engine();

        var vectors = (await engine.EmbedAsync(["first", "second"], CancellationToken.None)).Vectors;

        Assert.Equal([1f, 0f, 0f], vectors[0]);
        Assert.Equal([0f, 0.6f, 0.8f], vectors[1]);
        var sent = Assert.Single(_stub.Requests);
        Assert.Equal("/v1/embeddings", sent.Path);
        Assert.Equal("second", sent.Body.GetProperty("input")[1].GetString());
        Assert.Equal("float", sent.Body.GetProperty("encoding_format").GetString());
    }

    [Theory]
    [InlineData("""{"data":[{"index":0,"embedding":[1,2]}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":[1,2]},{"index":0,"embedding":[1,2]}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":[1,2]},{"index":1,"embedding":[1,2,3]}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":"AACAPw=="},{"index":1,"embedding":[1]}]}""")]
    [InlineData("""{"data":[{"index":0,"embedding":[1,"x"]},{"index":1,"embedding":[1,2]}]}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""not json""")]
    public async Task Malformed_embeddings_are_rejected(string body)
    {
        _stub.Respond = c => Json(c, 200, body);
        await using var engine = Engine();

        await Assert.ThrowsAsync<UpstreamProtocolException>(() => engine.EmbedAsync(["a", "b"], CancellationToken.None));
    }

    [Theory]
    [InlineData(400, """{"error":{"message":"prompt is longer than the context","type":"invalid_request_error"}}""", "prompt is longer than the context")]
    [InlineData(404, """{"error":"model 'stub-model' not found"}""", "model 'stub-model' not found")]
    [InlineData(422, """{"detail":"max_tokens must be positive"}""", "max_tokens must be positive")]
    [InlineData(500, "upstream exploded", "upstream exploded")]
    [InlineData(503, "", "Service Unavailable")]
    public async Task Non_success_answers_surface_the_upstreams_message(int status, string body, string message)
    {
        _stub.Respond = c => Json(c, status, body, body.StartsWith('{') ? "application/json" : "text/plain");
        await using var engine = Engine();

        var chat = await Assert.ThrowsAsync<UpstreamHttpException>(() => CollectAsync(engine, Request()));
        var embed = await Assert.ThrowsAsync<UpstreamHttpException>(() => engine.EmbedAsync(["x"], CancellationToken.None));

        foreach (var e in new[] { chat, embed })
        {
            Assert.Equal((HttpStatusCode)status, e.StatusCode);
            Assert.Equal(message, e.UpstreamMessage);
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
            Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string[], string> MalformedStreams => new()
    {
        { ["data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}\n\n"], "text/event-stream" },
        { [Chunk("cut short")], "text/event-stream" },
        { [Chunk("no finish"), Done], "text/event-stream" },
        { [Chunk("a", "tool_calls"), Done], "text/event-stream" },
        { ["data: {\"choices\":{\"index\":0}}\n\n", Done], "text/event-stream" },
        { ["data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":5}}]}\n\n", Done], "text/event-stream" },
        { ["data: [1,2,3]\n\n", Done], "text/event-stream" },
        { [Chunk("a", "stop") + "data: {\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":1}}\n\n", Done], "text/event-stream" },
        { ["{\"choices\":[{\"index\":0,\"message\":{\"content\":\"not streamed\"},\"finish_reason\":\"stop\"}]}"], "application/json" },
        { [Chunk("a"), Chunk(finish: "stop").TrimEnd('\n')], "text/event-stream" },
    };

    [Theory]
    [MemberData(nameof(MalformedStreams))]
    public async Task Malformed_streams_are_rejected(string[] events, string contentType)
    {
        _stub.Respond = c => Sse(c, events, contentType);
        await using var engine = Engine();

        await Assert.ThrowsAsync<UpstreamProtocolException>(() => CollectAsync(engine, Request()));
    }

    [Fact]
    public async Task Invalid_utf8_and_overlong_lines_are_rejected()
    {
        _stub.Respond = async c =>
        {
            c.Response.ContentType = "text/event-stream";
            c.Response.SendChunked = true;
            await c.Response.OutputStream.WriteAsync(new byte[] { (byte)'d', (byte)'a', (byte)'t', (byte)'a', (byte)':', 0xC3, 0x28, (byte)'\n', (byte)'\n' });
            c.Response.Close();
        };
        await using var engine = Engine();
        await Assert.ThrowsAsync<UpstreamProtocolException>(() => CollectAsync(engine, Request()));

        _stub.Respond = c => Sse(c, ["data: " + new string('x', 5 << 20) + "\n\n"]);
        await Assert.ThrowsAsync<UpstreamProtocolException>(() => CollectAsync(engine, Request()));
    }

    [Fact]
    public async Task An_error_event_in_the_stream_is_surfaced_with_its_message()
    {
        _stub.Respond = c => Sse(c, [Chunk("partial"), "data: {\"error\":{\"message\":\"out of memory\"}}\n\n"]);
        await using var engine = Engine();

        var e = await Assert.ThrowsAsync<UpstreamException>(() => CollectAsync(engine, Request()));
        Assert.Contains("out of memory", e.Message, StringComparison.Ordinal);

        _stub.Respond = c => Sse(c, [Chunk("partial"), "event: error\ndata: {\"message\":\"slot crashed\"}\n\n"]);
        e = await Assert.ThrowsAsync<UpstreamException>(() => CollectAsync(engine, Request()));
        Assert.Contains("slot crashed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_aborts_the_upstream_request()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stub.Respond = c => StreamUntilAborted(c, aborted);
        await using var engine = Engine();
        using var cts = new CancellationTokenSource();

        var seen = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in engine.GenerateAsync(Request(), cts.Token))
            {
                seen.Add(u.Text);
                await cts.CancelAsync();
            }
        });

        Assert.Equal(["first"], seen);
        await aborted.Task.WaitAsync(Guard);
    }

    [Fact]
    public async Task Abandoning_the_stream_aborts_the_upstream_request()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stub.Respond = c => StreamUntilAborted(c, aborted);
        await using var engine = Engine();

        await foreach (var u in engine.GenerateAsync(Request(), CancellationToken.None))
        {
            Assert.Equal("first", u.Text);
            break;
        }

        await aborted.Task.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_silent_upstream_runs_into_the_timeout_and_is_aborted()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stub.Respond = c => StreamUntilAborted(c, aborted);
        await using var engine = Engine(timeout: TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAsync<UpstreamTimeoutException>(() => CollectAsync(engine, Request()));

        Assert.Contains("did not finish", e.Message, StringComparison.Ordinal);
        await aborted.Task.WaitAsync(Guard);
    }

    [Fact]
    public async Task An_allow_listed_address_is_reached_and_another_address_of_the_same_server_is_refused()
    {
        _stub.Respond = c => Sse(c, [Chunk("ok", "stop"), Done]);
        await using var allowed = Engine("127.0.0.1");
        await using var refused = Engine("127.0.0.2");

        Assert.Equal("ok", (await CollectAsync(allowed, Request())).Text);
        var chat = await Assert.ThrowsAsync<EgressRefusedException>(() => CollectAsync(refused, Request()));
        var embed = await Assert.ThrowsAsync<EgressRefusedException>(() => refused.EmbedAsync(["x"], CancellationToken.None));

        Assert.Equal("127.0.0.2", chat.Host);
        Assert.Equal(_stub.Port, embed.Port);
        Assert.Equal([IPAddress.Parse("127.0.0.2")], chat.Addresses);
        Assert.Equal(["127.0.0.1"], _stub.Requests.Select(r => r.LocalAddress).ToArray());
    }

    [Fact]
    public async Task The_same_stub_is_reachable_on_the_second_address_when_it_is_allow_listed()
    {
        // Proves the refusal above comes from the allow-list, not from 127.0.0.2 being unreachable.
        _stub.Respond = c => Sse(c, [Chunk("ok", "stop"), Done]);
        await using var engine = Engine("127.0.0.2", allow: ["127.0.0.2"]);

        Assert.Equal("ok", (await CollectAsync(engine, Request())).Text);
        Assert.Equal("127.0.0.2", Assert.Single(_stub.Requests).LocalAddress);
    }

    [Fact]
    public async Task A_refused_destination_never_sees_a_connection()
    {
        var listener = new TcpListener(IPAddress.Parse("127.0.0.2"), 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            await using var engine = new UpstreamEngine(
                new UpstreamOptions { BaseAddress = new Uri($"http://127.0.0.2:{port}"), Model = "m" }, new EgressAllowList(["127.0.0.1"]));

            await Assert.ThrowsAsync<EgressRefusedException>(() => CollectAsync(engine, Request()));

            Assert.False(listener.Pending());
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_host_name_is_allowed_through_the_addresses_it_resolves_to()
    {
        _stub.Respond = c => Sse(c, [Chunk("by name", "stop"), Done]);
        var dns = new Dictionary<string, IPAddress[]> { ["localhost"] = [IPAddress.Parse("127.0.0.1")] };
        Task<IPAddress[]> Resolve(string host, CancellationToken _) =>
            dns.TryGetValue(host, out var a) ? Task.FromResult(a) : throw new SocketException((int)SocketError.HostNotFound);
        var egress = new EgressAllowList(["localhost", "unknown.lan"], Resolve);
        UpstreamEngine Via(string host) => new(new UpstreamOptions { BaseAddress = new Uri($"http://{host}:{_stub.Port}"), Model = "m" }, egress);

        await using var byName = Via("localhost");
        await using var byAddress = Via("127.0.0.1");
        await using var other = Via("127.0.0.2");

        Assert.Equal("by name", (await CollectAsync(byName, Request())).Text);
        Assert.Equal("by name", (await CollectAsync(byAddress, Request())).Text);
        await Assert.ThrowsAsync<EgressRefusedException>(() => CollectAsync(other, Request()));
        Assert.Equal(2, _stub.Requests.Count);
    }

    [Fact]
    public async Task Empty_and_invalid_inputs_are_rejected_before_sending()
    {
        await using var engine = Engine();

        Assert.Empty((await engine.EmbedAsync([], CancellationToken.None)).Vectors);
        await Assert.ThrowsAsync<ArgumentException>(() => engine.EmbedAsync(["a", ""], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => CollectAsync(engine, Request() with { MaxTokens = 0 }));
        Assert.Empty(_stub.Requests);
    }

    [Fact]
    public async Task A_disposed_engine_refuses_requests()
    {
        var engine = Engine();
        await engine.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => CollectAsync(engine, Request()));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.EmbedAsync(["a"], CancellationToken.None));
    }
}
