using System.Text;

namespace Sios.Brains.Upstream;

/// <summary>One server-sent event: its type (null when the stream gave none) and its data lines joined by newlines.</summary>
internal readonly record struct SseEvent(string? Type, string Data);

/// <summary>
/// Reads server-sent events (the text/event-stream format) from a byte stream: data lines are joined, comments,
/// ids and retry hints are skipped, and an event left unterminated at the end of the stream is dropped as the
/// format requires. A line longer than the configured bound is rejected instead of growing memory without limit.
/// </summary>
internal sealed class SseReader(Stream stream, int maxLineBytes)
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next event, or null when the stream has ended.</summary>
    /// <exception cref="UpstreamProtocolException">A line is too long or not UTF-8.</exception>
    public async ValueTask<SseEvent?> ReadEventAsync(CancellationToken ct)
    {
        string? type = null;
        StringBuilder? data = null;
        while (true)
        {
            var line = await ReadLineAsync(ct).ConfigureAwait(false);
            if (line is null)
            {
                return null;
            }

            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new SseEvent(type, data.ToString());
                }

                type = null;
                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            if (field == "data")
            {
                data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value);
                if (data.Length > maxLineBytes)
                {
                    throw new UpstreamProtocolException($"An event of the upstream's stream is longer than {maxLineBytes} bytes.");
                }
            }
            else if (field == "event")
            {
                type = value;
            }
        }
    }

    private async ValueTask<string?> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }

                string line;
                try
                {
                    line = Utf8.GetString(_buffer, _start, length);
                }
                catch (DecoderFallbackException e)
                {
                    throw new UpstreamProtocolException("The upstream's stream is not valid UTF-8.", e);
                }

                _start = newline + 1;
                return line;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= maxLineBytes)
                {
                    throw new UpstreamProtocolException($"A line of the upstream's stream is longer than {maxLineBytes} bytes.");
                }

                Array.Resize(ref _buffer, Math.Min(maxLineBytes, _buffer.Length * 2));
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }
}
