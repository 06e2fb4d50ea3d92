using System.Net;
using Sios.Verify.Audit;
using Sios.Verify.Notes;

namespace Sios.Tests.Audit;

/// <summary>The HTTP tlog-tiles source: paths, the bearer key, size caps, timeouts, and errors that name URL and status.</summary>
public sealed class HttpLogSourceTests
{
    private static readonly Uri Prefix = new("http://log.test/log");

    [Fact]
    public async Task Reads_tlog_tiles_paths_under_the_prefix_with_the_bearer_key()
    {
        using var handler = new Served(request => request.RequestUri!.AbsolutePath switch
        {
            "/log/checkpoint" => Ok("note"u8.ToArray()),
            "/log/tile/1/x001/234.p/3" => Ok(new byte[3 * 32]),
            "/log/tile/entries/005.p/2" => Ok([0, 1, 7, 0, 0]),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
        using var http = new HttpClient(handler);
        var source = new HttpLogSource(http, Prefix, apiKey: "sk-secret");

        Assert.Equal("note"u8.ToArray(), await source.ReadCheckpointAsync(default));
        Assert.Equal(96, (await source.ReadTileAsync(1, 1234, 3, default)).Length);
        Assert.Equal(new byte[] { 0, 1, 7, 0, 0 }, (await source.ReadEntryBundleAsync(5, 2, default)).ToArray());
        Assert.All(handler.Requests, r => Assert.Equal("Bearer sk-secret", r.Headers.Authorization?.ToString()));
    }

    [Fact]
    public async Task A_missing_partial_tile_or_bundle_falls_back_to_the_full_one_truncated()
    {
        var bundle = EntryBundle.Encode([.. Enumerable.Range(0, 256).Select(i => new[] { (byte)i })]);
        using var handler = new Served(request => request.RequestUri!.AbsolutePath switch
        {
            "/log/tile/0/000" => Ok(new byte[256 * 32]),
            "/log/tile/entries/000" => Ok(bundle),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });
        using var http = new HttpClient(handler);
        var source = new HttpLogSource(http, Prefix);

        Assert.Equal(5 * 32, (await source.ReadTileAsync(0, 0, 5, default)).Length);
        Assert.Equal(bundle[..9], (await source.ReadEntryBundleAsync(0, 3, default)).ToArray());
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, false, "401 Unauthorized")]
    [InlineData(HttpStatusCode.Forbidden, false, "403 Forbidden")]
    [InlineData(HttpStatusCode.NotFound, true, "404 NotFound")]
    [InlineData(HttpStatusCode.ServiceUnavailable, true, "503 ServiceUnavailable")]
    public async Task A_refusal_names_the_url_and_the_status(HttpStatusCode status, bool transient, string named)
    {
        using var handler = new Served(_ => new HttpResponseMessage(status));
        using var http = new HttpClient(handler);
        var e = await Assert.ThrowsAsync<LogFetchException>(async () => await new HttpLogSource(http, Prefix, "sk-secret").ReadCheckpointAsync(default));
        Assert.Contains("http://log.test/log/checkpoint", e.Message, StringComparison.Ordinal);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-secret", e.Message, StringComparison.Ordinal);
        Assert.Equal((int)status, e.Status);
        Assert.Equal(transient, e.Transient);
    }

    [Fact]
    public async Task Bodies_over_the_cap_of_their_kind_are_refused_even_without_a_content_length()
    {
        using var handler = new Served(request => request.RequestUri!.AbsolutePath.EndsWith("checkpoint", StringComparison.Ordinal)
            ? Ok(new byte[101], chunked: true)
            : Ok(new byte[2 * 32 + 1], chunked: true));
        using var http = new HttpClient(handler);
        var source = new HttpLogSource(http, Prefix, limits: new NoteLimits(MaxNoteBytes: 100));

        var note = await Assert.ThrowsAsync<LogFetchException>(async () => await source.ReadCheckpointAsync(default));
        Assert.Contains("larger than any valid one", note.Message, StringComparison.Ordinal);
        Assert.False(note.Transient);
        await Assert.ThrowsAsync<LogFetchException>(async () => await source.ReadTileAsync(0, 0, 2, default));
    }

    [Fact]
    public async Task A_server_that_does_not_answer_times_out_per_request()
    {
        using var handler = new Served(_ => throw new InvalidOperationException("unreachable"), stall: true);
        using var http = new HttpClient(handler);
        var source = new HttpLogSource(http, Prefix, timeout: TimeSpan.FromMilliseconds(200));
        var e = await Assert.ThrowsAsync<LogFetchException>(async () => await source.ReadCheckpointAsync(default)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("no answer within", e.Message, StringComparison.Ordinal);
        Assert.True(e.Transient);
    }

    [Fact]
    public void Only_an_http_prefix_without_query_is_accepted()
    {
        using var http = new HttpClient();
        Assert.Throws<ArgumentException>(() => new HttpLogSource(http, new Uri("file:///tmp/log")));
        Assert.Throws<ArgumentException>(() => new HttpLogSource(http, new Uri("http://log.test/log?x=1")));
        Assert.Equal("http://log.test/log/", new HttpLogSource(http, Prefix).BaseUrl.AbsoluteUri);
    }

    private static HttpResponseMessage Ok(byte[] body, bool chunked = false)
    {
        HttpContent content = chunked ? new Unsized(body) : new ByteArrayContent(body);
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }

    /// <summary>A body sent without a Content-Length, as a chunked answer is: only reading it shows its size.</summary>
    private sealed class Unsized(byte[] body) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(body).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>Answers every request with <paramref name="answer"/> (or never, when it stalls) and records it.</summary>
    private sealed class Served(Func<HttpRequestMessage, HttpResponseMessage> answer, bool stall = false) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            if (stall)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return answer(request);
        }
    }
}
