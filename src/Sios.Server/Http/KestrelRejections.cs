using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Sios.Server.Http;

/// <summary>
/// Gives the responses Kestrel writes on its own OpenAI's error object instead of an empty body: requests it refuses
/// before any middleware runs (a malformed request line or headers 400, 414, 431, 505, headers too slow 408).
/// Kestrel has no hook for these, so this connection middleware watches each connection's output. Bytes written
/// while no request is in the app are Kestrel's own; an error response among them that has an empty body and closes
/// the connection (exactly how Kestrel refuses) is rewritten with the body of <see cref="ApiException.ForRejection"/>.
/// Everything the app writes passes through untouched.
/// </summary>
internal static class KestrelRejections
{
    /// <summary>Watches the output of every connection of <paramref name="listen"/>.</summary>
    public static void WatchOutput(ListenOptions listen) => listen.Use(next => connection =>
    {
        var watch = new Watch(connection.Transport);
        connection.Features.Set(watch);
        connection.Transport = watch;
        return next(connection);
    });

    /// <summary>
    /// Marks the request of <paramref name="context"/> as the app's until its response is complete: Kestrel runs the
    /// completion callbacks only after it has written the response's last byte.
    /// </summary>
    public static void InApp(HttpContext context)
    {
        if (context.Features.Get<Watch>() is { } watch)
        {
            watch.InApp = true;
            context.Response.OnCompleted(() =>
            {
                watch.InApp = false;
                return Task.CompletedTask;
            });
        }
    }

    /// <summary>A connection's transport with a watched output.</summary>
    private sealed class Watch : IDuplexPipe
    {
        private volatile bool _inApp;

        public Watch(IDuplexPipe transport)
        {
            Input = transport.Input;
            Output = new Writer(transport.Output, this);
        }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }

        public bool InApp
        {
            get => _inApp;
            set => _inApp = value;
        }

        /// <summary>Writes straight through while a request is in the app; otherwise holds each write until its flush and rewrites a refusal.</summary>
        private sealed class Writer(PipeWriter inner, Watch watch) : PipeWriter
        {
            private static readonly byte[] HeadersEnd = "\r\n\r\n"u8.ToArray();
            private readonly ArrayBufferWriter<byte> _held = new(512);
            private bool _holding;

            public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

            public override long UnflushedBytes => inner.UnflushedBytes + _held.WrittenCount;

            public override Memory<byte> GetMemory(int sizeHint = 0)
            {
                _holding = !watch.InApp;
                return _holding ? _held.GetMemory(sizeHint) : inner.GetMemory(sizeHint);
            }

            public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

            public override void Advance(int bytes)
            {
                if (_holding)
                {
                    _held.Advance(bytes);
                }
                else
                {
                    inner.Advance(bytes);
                }
            }

            public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
            {
                Release();
                return inner.FlushAsync(cancellationToken);
            }

            public override void CancelPendingFlush() => inner.CancelPendingFlush();

            public override void Complete(Exception? exception = null)
            {
                Release();
                inner.Complete(exception);
            }

            public override async ValueTask CompleteAsync(Exception? exception = null)
            {
                Release();
                await inner.CompleteAsync(exception).ConfigureAwait(false);
            }

            /// <summary>Passes the held bytes on, rewritten when they are one of Kestrel's bodiless refusals.</summary>
            private void Release()
            {
                if (_held.WrittenCount == 0)
                {
                    return;
                }

                inner.Write(Rewrite(_held.WrittenSpan) ?? _held.WrittenSpan);
                _held.Clear();
            }

            /// <summary>
            /// Kestrel's refusal with the error object as its body, or null for anything else. A refusal is the status
            /// line of a 4xx or 5xx, then headers with <c>Content-Length: 0</c> and <c>Connection: close</c>, and nothing after.
            /// </summary>
            private static byte[]? Rewrite(ReadOnlySpan<byte> written)
            {
                var end = written.IndexOf(HeadersEnd);
                if (end < 0 || end + HeadersEnd.Length != written.Length || !written.StartsWith("HTTP/1."u8) || written.Length < 12
                    || !int.TryParse(written.Slice(9, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status)
                    || status < 400)
                {
                    return null;
                }

                var headers = Encoding.ASCII.GetString(written[..end]);
                const string Empty = "\r\nContent-Length: 0";
                var empty = headers.IndexOf(Empty + "\r\n", StringComparison.OrdinalIgnoreCase);
                if (empty < 0 && !headers.EndsWith(Empty, StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                if (!headers.Contains("\r\nConnection: close", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                var body = ApiException.ForRejection(status).ToJson();
                var at = empty < 0 ? headers.Length - Empty.Length : empty;
                var rewritten = string.Concat(headers.AsSpan(0, at), $"\r\nContent-Type: application/json\r\nContent-Length: {body.Length}", headers.AsSpan(at + Empty.Length), "\r\n\r\n");
                return [.. Encoding.ASCII.GetBytes(rewritten), .. body];
            }
        }
    }
}
