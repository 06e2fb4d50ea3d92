using System.Text;
using CsCheck;
using Sios.Brains.Upstream;

namespace Sios.Brains.Tests.Upstream;

public sealed class SseReaderTests
{
    /// <summary>Hands out the bytes in the given chunk sizes, as a network stream would.</summary>
    private sealed class ChunkedStream(byte[] data, int[] sizes) : Stream
    {
        private int _position;
        private int _call;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, sizes.Length == 0 ? count : Math.Max(1, sizes[_call++ % sizes.Length])), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
    }

    private static async Task<List<SseEvent>> ReadAllAsync(string text, int[]? sizes = null, int max = 1 << 20)
    {
        var reader = new SseReader(new ChunkedStream(Encoding.UTF8.GetBytes(text), sizes ?? []), max);
        var events = new List<SseEvent>();
        while (await reader.ReadEventAsync(CancellationToken.None) is { } e)
        {
            events.Add(e);
        }

        return events;
    }

    [Fact]
    public async Task Data_lines_are_joined_and_other_fields_skipped()
    {
        var events = await ReadAllAsync(": comment\nid: 1\nretry: 10\ndata: a\ndata:b\ndata\n\n\n\nevent: error\ndata: x\r\n\r\ndata: [DONE]\n\n");

        Assert.Equal([new SseEvent(null, "a\nb\n"), new SseEvent("error", "x"), new SseEvent(null, "[DONE]")], events);
    }

    [Fact]
    public async Task An_unterminated_event_at_the_end_is_dropped()
    {
        Assert.Equal([new SseEvent(null, "whole")], await ReadAllAsync("data: whole\n\ndata: cut"));
        Assert.Equal([new SseEvent(null, "whole")], await ReadAllAsync("data: whole\n\ndata: cut\n"));
    }

    [Fact]
    public async Task Overlong_lines_and_events_are_rejected()
    {
        await Assert.ThrowsAsync<UpstreamProtocolException>(() => ReadAllAsync("data: " + new string('x', 100) + "\n\n", max: 64));
        await Assert.ThrowsAsync<UpstreamProtocolException>(() => ReadAllAsync(string.Concat(Enumerable.Repeat("data: 0123456789\n", 10)) + "\n", max: 64));
        Assert.Single(await ReadAllAsync("data: " + new string('x', 50) + "\n\n", max: 64));
    }

    [Fact]
    public async Task Invalid_utf8_is_rejected()
    {
        var reader = new SseReader(new MemoryStream([(byte)'d', (byte)'a', (byte)'t', (byte)'a', (byte)':', 0xFF, (byte)'\n', (byte)'\n']), 1024);

        await Assert.ThrowsAsync<UpstreamProtocolException>(() => reader.ReadEventAsync(CancellationToken.None).AsTask());
    }

    [Fact]
    public void How_the_stream_is_split_into_reads_never_changes_the_events()
    {
        var payload = Gen.String[Gen.Char['a', 'z'], 0, 40].Where(s => !s.Contains('\n', StringComparison.Ordinal));
        Gen.Select(payload.Array[1, 8], Gen.Int[1, 17].Array[1, 6], Gen.Bool).Sample((payloads, sizes, crlf) =>
        {
            var newline = crlf ? "\r\n" : "\n";
            var text = string.Concat(payloads.Select(p => ": note" + newline + "data: " + p + newline + newline));
            var events = ReadAllAsync(text, sizes, max: 256).GetAwaiter().GetResult();
            Assert.Equal(payloads, events.Select(e => e.Data).ToArray());
        });
    }
}
