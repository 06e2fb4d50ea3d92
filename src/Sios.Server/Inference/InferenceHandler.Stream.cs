using System.Globalization;
using Microsoft.AspNetCore.Http;
using Sios.Brains.Engines;
using Sios.Verify.Entries;
using Sios.Server.Http;

namespace Sios.Server.Inference;

/// <summary>Streamed answers (<c>stream: true</c>): server-sent events between two seals.</summary>
internal sealed partial class InferenceHandler
{
    /// <summary>
    /// Seals <c>inference.begin</c> before the first byte, streams the door's events while hashing (and, when the vault
    /// keeps content, copying) every byte sent, seals the <c>inference</c> entry over exactly those bytes, then sends the
    /// door's receipt (for OpenAI the <c>: sios</c> comment and <c>data: [DONE]</c>). Both nonces derive from the <c>inference</c> entry's id, made before the stream starts, so
    /// the client has them in the headers. A stream that fails midway ends with an error event (also committed to),
    /// and a client that leaves is sealed as cancelled over what it was sent.
    /// </summary>
    private async Task StreamAsync(HttpContext context, InferenceRecord record, IAnswerWriter writer, ChatRequest request, CancellationToken ct)
    {
        var lease = await services.Pool.AcquireAsync(record.Brain!, ct).ConfigureAwait(false);
        GenerationUpdate? final = null;
        Exception? failure = null;
        var spent = 0;
        using var tap = new ResponseTap(sealer.ResponseHash(record), Keeping);
        var http = context.Response;
        try
        {
            var begin = await sealer.SealBeginAsync(record, EntryJson.NewId(services.Clock), CancellationToken.None).ConfigureAwait(false);
            http.StatusCode = 200;
            http.ContentType = writer.StreamType;
            http.Headers.CacheControl = "no-cache";
            http.Headers["X-Accel-Buffering"] = "no";
            http.Headers["Sios-Begin-Index"] = begin.ToString(CultureInfo.InvariantCulture);
            http.Headers["Sios-Request-Nonce"] = record.RequestNonce;
            http.Headers["Sios-Response-Nonce"] = sealer.ResponseNonce(record);
            await http.StartAsync(ct).ConfigureAwait(false);

            async Task SendAsync(IEnumerable<byte[]> events)
            {
                var any = false;
                foreach (var bytes in events)
                {
                    tap.Append(bytes);
                    await http.Body.WriteAsync(bytes, ct).ConfigureAwait(false);
                    any = true;
                }

                if (any)
                {
                    await http.Body.FlushAsync(ct).ConfigureAwait(false);
                }
            }

            var started = false;
            var called = 0;
            var shownCalls = 0;
            await foreach (var update in lease.Engine.GenerateAsync(request, ct).ConfigureAwait(false))
            {
                if (!started)
                {
                    started = true;
                    await SendAsync(writer.Start(update.Usage)).ConfigureAwait(false);
                }

                if (update.CallDelta is { } delta)
                {
                    shownCalls = Math.Max(shownCalls, delta.Index + 1);
                    await SendAsync(writer.CallDelta(delta)).ConfigureAwait(false);
                }

                if (update.Call is { } call)
                {
                    // A call already shown piece by piece is only named for the seal; any other is sent whole here.
                    record.Called.Add(call.Name);
                    if (called++ >= shownCalls)
                    {
                        await SendAsync(writer.Call(call, called - 1)).ConfigureAwait(false);
                    }
                }

                if (update.Text.Length > 0)
                {
                    await SendAsync(writer.Text(update.Text)).ConfigureAwait(false);
                }

                if (update.IsFinal)
                {
                    await SendAsync(writer.Finish(update.FinishReason!.Value, update.Usage!)).ConfigureAwait(false);
                    final = update;
                    break;
                }

                // What this stream has cost so far: the engine's running usage, or a token per piece when it reports none.
                spent = update.Usage?.TotalTokens ?? spent + 1;
            }
        }
        catch (Exception e) when (http.HasStarted)
        {
            failure = e;
        }
        finally
        {
            await lease.DisposeAsync().ConfigureAwait(false);
        }

        if (final is null)
        {
            // A client that leaves mid-answer (or an answer that fails) is charged the tokens already spent on it.
            limiter.Charge(record.Key, spent);
        }

        await FinishStreamAsync(context, record, writer, tap, final, failure).ConfigureAwait(false);
    }

    private async Task FinishStreamAsync(HttpContext context, InferenceRecord record, IAnswerWriter writer, ResponseTap tap, GenerationUpdate? final, Exception? failure)
    {
        var http = context.Response;
        var aborted = context.RequestAborted.IsCancellationRequested;
        InferenceOutcome outcome;
        if (final is not null)
        {
            outcome = new InferenceOutcome(InferenceSealer.SealedFinish(final.FinishReason!.Value), 200, final.Usage!.PromptTokens, final.Usage.CompletionTokens)
            {
                Called = [.. record.Called],
            };
            metrics.Tokens(final.Usage.PromptTokens, final.Usage.CompletionTokens);
            limiter.Charge(record.Key, final.Usage.TotalTokens);
        }
        else if ((aborted ? null : ApiException.ForRequest(context, failure!, options.RequestTimeout)) is not { } error)
        {
            aborted = true;
            LogStreamEnded(logger, record.Id, "the client went away", null);
            outcome = new InferenceOutcome("cancelled", 499);
        }
        else
        {
            // Only an unforeseen failure needs its stack trace in the log; a known cause is one line.
            LogStreamEnded(logger, record.Id, error.Message, error.Status == StatusCodes.Status500InternalServerError ? failure : null);
            var bytes = writer.Failure(error);
            tap.Append(bytes);
            await TryWriteAsync(http, bytes).ConfigureAwait(false);
            outcome = new InferenceOutcome("error", error.Status);
        }

        long index;
        try
        {
            index = await sealer.SealAsync(record, tap.Commitment(), outcome, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception sealFailure)
        {
            // The answer was streamed but cannot be sealed: the client is told so, and gets no receipt and no [DONE].
            ReportSealFailure(record.Id, sealFailure);
            if (!aborted)
            {
                await TryWriteAsync(http, writer.Failure(ApiException.From(sealFailure))).ConfigureAwait(false);
            }

            return;
        }

        Keep(record, tap.Bytes, final is null ? null : writer);
        metrics.Request(record.Api, outcome.Status);
        if (!aborted)
        {
            await TryWriteAsync(http, writer.Receipt(sealer.Receipt(record, index), final is not null)).ConfigureAwait(false);
        }
    }

    private static async Task TryWriteAsync(HttpResponse http, byte[] bytes)
    {
        try
        {
            await http.Body.WriteAsync(bytes, http.HttpContext.RequestAborted).ConfigureAwait(false);
            await http.Body.FlushAsync(http.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client left between the seal and these last bytes; the seal stands.
        }
    }
}
