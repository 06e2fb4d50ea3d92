namespace Sios.EndToEnd;

/// <summary>One HTTP exchange as the client saw it: the exact request body and every response byte it read.</summary>
internal sealed class Exchange
{
    public required HttpResponseMessage Response { get; init; }

    public required byte[] Request { get; init; }

    public MemoryStream Received { get; } = new();
}

/// <summary>
/// Sits under a real client (the OpenAI SDK) and records what crossed the wire, without changing it: the request
/// body is buffered and re-sent as is; the response body is teed as the client reads it, so a stream is recorded
/// byte for byte, including SSE comments the client itself ignores.
/// </summary>
internal sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
{
    public List<Exchange> Exchanges { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        if (request.Content is not null)
        {
            var replay = new ByteArrayContent(body);
            foreach (var header in request.Content.Headers)
            {
                replay.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            request.Content = replay;
        }

        var response = await base.SendAsync(request, cancellationToken);
        var exchange = new Exchange { Response = response, Request = body };
        var inner = response.Content;
        var tee = new StreamContent(new TeeStream(await inner.ReadAsStreamAsync(cancellationToken), exchange.Received));
        foreach (var header in inner.Headers)
        {
            tee.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = tee;
        lock (Exchanges)
        {
            Exchanges.Add(exchange);
        }

        return response;
    }

    private sealed class TeeStream(Stream source, Stream copy) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = source.Read(buffer, offset, count);
            copy.Write(buffer, offset, n);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await source.ReadAsync(buffer, cancellationToken);
            copy.Write(buffer.Span[..n]);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
