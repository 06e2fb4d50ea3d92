using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sios.Brains.Engines;
using Sios.Brains.Registry;
using Sios.Verify.Entries;
using Sios.Ledger.Pipeline;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Server.Http;

namespace Sios.Server.Inference;

/// <summary>
/// The path of one answer (ARCHITECTURE.md): authenticate, read the exact body, resolve the brain and its scope,
/// generate, seal, and only then answer with the receipt headers. Every authenticated request is sealed, answered or
/// not; if the seal cannot be made the client gets a 503 instead of the answer.
/// </summary>
internal sealed partial class InferenceHandler(SiosServices services, SiosServerOptions options, InferenceSealer sealer, KeyRateLimiter limiter, SiosMetrics metrics, InflightJournal inflight, ILogger<InferenceHandler> logger)
{
    private int _stoppedLogReported;

    /// <summary>Answers a generation request that came through <paramref name="door"/>.</summary>
    public async Task GenerateAsync(HttpContext context, IGenerationDoor door)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        Admit(principal);
        var record = new InferenceRecord(EntryJson.NewId(services.Clock), principal, door.Api, door.Errors);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(options.RequestTimeout);
        try
        {
            var body = await ReadBodyAsync(context, record).ConfigureAwait(false);
            GenerationRequest parsed;
            using (var doc = JsonFields.ParseObject(body))
            {
                parsed = door.Parse(doc.RootElement, principal);
            }

            var brain = Resolve(record, parsed.Model);
            record.Brain = brain;
            record.Stream = parsed.Stream;
            record.ToolsOffered = parsed.Tools.Tools.Count > 0 ? parsed.Tools.Tools.Count : null;
            // Each key reuses only the prompt prefixes it left itself: a shared cache would time one key's prompts for another.
            var request = parsed.ToEngineRequest(brain) with { CacheScope = principal.Actor };
            var writer = door.Writer(new AnswerContext(record.Id, brain.Name, services.Clock.GetUtcNow(), parsed) { Admitted = record.Started });
            using var note = inflight.Begin(record, services.Clock);
            if (parsed.Stream)
            {
                await StreamAsync(context, record, writer, request, deadline.Token).ConfigureAwait(false);
            }
            else
            {
                await AnswerAsync(context, record, writer, request, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await FailAsync(context, record, e).ConfigureAwait(false);
        }
    }

    /// <summary>Answers an embeddings request that came through <paramref name="door"/>.</summary>
    public async Task EmbedAsync(HttpContext context, IEmbeddingDoor door)
    {
        var principal = Authentication.Require(context, services.Keys, metrics);
        Admit(principal);
        var record = new InferenceRecord(EntryJson.NewId(services.Clock), principal, door.Api, door.Errors);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(options.RequestTimeout);
        try
        {
            var body = await ReadBodyAsync(context, record).ConfigureAwait(false);
            EmbeddingsRequest parsed;
            using (var doc = JsonFields.ParseObject(body))
            {
                parsed = door.Parse(doc.RootElement);
            }

            var brain = Resolve(record, parsed.Model);
            record.Brain = brain;
            using var note = inflight.Begin(record, services.Clock);
            EmbeddingResult result;
            var engineStarted = Stopwatch.GetTimestamp();
            await using (var lease = await services.Pool.AcquireAsync(brain, deadline.Token).ConfigureAwait(false))
            {
                result = await lease.Engine.EmbedAsync(parsed.Inputs, deadline.Token).ConfigureAwait(false);
            }

            var engineTime = Stopwatch.GetElapsedTime(engineStarted);
            limiter.Charge(principal, result.PromptTokens ?? 0);
            var response = door.Answer(parsed, brain.Name, result);
            var sealStarted = Stopwatch.GetTimestamp();
            var index = await sealer.SealAsync(record, response, new InferenceOutcome("stop", 200, result.PromptTokens, result.PromptTokens is null ? null : 0), CancellationToken.None)
                .ConfigureAwait(false);
            var sealTime = Stopwatch.GetElapsedTime(sealStarted);
            Keep(record, response);
            await SendAsync(context, record, index, response, engineTime, sealTime).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await FailAsync(context, record, e).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A key over its budget gets a 429 with Retry-After, counted in metrics but not sealed: sealing each refusal would
    /// let the very key that is being held back fill the log.
    /// </summary>
    private void Admit(ApiPrincipal principal)
    {
        try
        {
            limiter.Admit(principal);
        }
        catch (ApiException)
        {
            metrics.RateLimited();
            throw;
        }
    }

    private async Task<byte[]> ReadBodyAsync(HttpContext context, InferenceRecord record)
    {
        var body = await RequestBody.ReadJsonAsync(context, options.MaxRequestBodyBytes).ConfigureAwait(false);
        sealer.CommitRequest(record, record.Id, body);
        record.RequestBody = body;
        return body;
    }

    /// <summary>The brain a request names, if the key may use it; a missing brain and one out of scope get the same 404.</summary>
    private BrainManifest Resolve(InferenceRecord record, string model) =>
        services.Brains.Find(model) is { } brain && record.Key.MayUse(brain.Name) ? brain : throw ApiException.ModelNotFound(model, record.Errors);

    private async Task AnswerAsync(HttpContext context, InferenceRecord record, IAnswerWriter writer, ChatRequest request, CancellationToken ct)
    {
        var text = new StringBuilder();
        var calls = new List<FunctionCallContent>();
        GenerationUpdate final;
        var engineStarted = Stopwatch.GetTimestamp();
        var spent = new StrongBox<int>();
        await using (var lease = await services.Pool.AcquireAsync(record.Brain!, ct).ConfigureAwait(false))
        {
            try
            {
                final = await CollectAsync(lease.Engine.GenerateAsync(request, ct), text, calls, spent).ConfigureAwait(false);
            }
            catch
            {
                // A client that leaves (or an answer that fails) is still charged the tokens the brain spent on it.
                limiter.Charge(record.Key, spent.Value);
                throw;
            }
        }

        var engineTime = Stopwatch.GetElapsedTime(engineStarted);

        var usage = final.Usage!;
        limiter.Charge(record.Key, usage.TotalTokens);
        var response = writer.Whole(text.ToString(), final.FinishReason!.Value, usage, calls);
        var outcome = new InferenceOutcome(InferenceSealer.SealedFinish(final.FinishReason.Value), 200, usage.PromptTokens, usage.CompletionTokens)
        {
            Called = [.. calls.Select(c => c.Name)],
        };
        var sealStarted = Stopwatch.GetTimestamp();
        var index = await sealer.SealAsync(record, response, outcome, CancellationToken.None).ConfigureAwait(false);
        var sealTime = Stopwatch.GetElapsedTime(sealStarted);
        Keep(record, response, writer);

        metrics.Tokens(usage.PromptTokens, usage.CompletionTokens);
        await SendAsync(context, record, index, response, engineTime, sealTime).ConfigureAwait(false);
    }

    private static async Task<GenerationUpdate> CollectAsync(IAsyncEnumerable<GenerationUpdate> updates, StringBuilder text, List<FunctionCallContent> calls, StrongBox<int> spent)
    {
        await foreach (var update in updates.ConfigureAwait(false))
        {
            spent.Value = update.Usage?.TotalTokens ?? spent.Value + 1;
            text.Append(update.Text);
            if (update.Call is { } call)
            {
                calls.Add(call);
            }

            if (update.IsFinal)
            {
                return update;
            }
        }

        throw new InvalidOperationException("the engine ended a stream without a final update");
    }

    /// <summary>
    /// Sends a sealed answer with its receipt headers and a W3C Server-Timing header (the brain's work, the seal, and
    /// everything since the request was admitted), so an operator can see where the time of an answer went.
    /// </summary>
    private async Task SendAsync(HttpContext context, InferenceRecord record, long index, byte[] response, TimeSpan engine, TimeSpan seal)
    {
        metrics.Request(record.Api, 200);
        var http = context.Response;
        http.StatusCode = 200;
        http.ContentType = "application/json";
        http.ContentLength = response.Length;
        foreach (var (name, value) in sealer.ReceiptHeaders(record, index))
        {
            http.Headers[name] = value;
        }

        http.Headers["Server-Timing"] = string.Create(
            CultureInfo.InvariantCulture,
            $"brain;dur={engine.TotalMilliseconds:0.###}, seal;dur={seal.TotalMilliseconds:0.###}, total;dur={Stopwatch.GetElapsedTime(record.Started).TotalMilliseconds:0.###}");

        await http.Body.WriteAsync(response, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers with the error for <paramref name="exception"/>, sealed like any answer (the response commitment covers
    /// the error body). A client that went away is sealed as cancelled. If even the error cannot be sealed, the client
    /// gets the seal's own 503 without receipt headers.
    /// </summary>
    private async Task FailAsync(HttpContext context, InferenceRecord record, Exception exception)
    {
        var error = ApiException.ForRequest(context, exception, options.RequestTimeout);
        Report(record.Id, error, exception);
        var aborted = error is null;
        var body = error?.ToJson(record.Errors) ?? [];
        var status = error?.Status ?? 499;
        var folded = 0;
        if (error is { Status: >= 400 and < 500 and not StatusCodes.Status408RequestTimeout } && !limiter.Refusals.TryTake(record.Key.KeyId, out folded))
        {
            // Past the key's budget of sealed refusals: answered the same, but counted into its next sealed refusal instead
            // of an entry each, so repeating a refused request cannot fill the log. Such an answer carries no receipt.
            metrics.Request(record.Api, status);
            metrics.RefusalFolded();
            await error.WriteAsync(context, record.Errors).ConfigureAwait(false);
            return;
        }

        long index;
        try
        {
            index = await sealer.SealAsync(record, body, new InferenceOutcome(aborted ? "cancelled" : "error", status) { Folded = folded }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception sealFailure)
        {
            ReportSealFailure(record.Id, sealFailure);
            if (!aborted)
            {
                await ApiException.From(sealFailure).WriteAsync(context, record.Errors).ConfigureAwait(false);
            }

            return;
        }

        Keep(record, body);
        metrics.Request(record.Api, status);
        if (error is not null)
        {
            await error.WriteAsync(context, body, sealer.ReceiptHeaders(record, index)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Logs a failed request in one line (no stack trace) when its cause is known: the client left, the server
    /// cannot answer at the moment (503) or a brain cannot load for good (424), with the operator's detail the client's
    /// message leaves out (paths, hosts). Only an unforeseen failure (500, 502, 504) is logged with its exception.
    /// </summary>
    private void Report(string entryId, ApiException? error, Exception exception)
    {
        switch (error?.Status)
        {
            case null:
                LogClientGone(logger, entryId);
                break;
            case StatusCodes.Status503ServiceUnavailable or StatusCodes.Status424FailedDependency:
                LogUnavailable(logger, entryId, error.Status, Detail(exception));
                break;
            case >= 500:
                LogFailure(logger, entryId, error.Status, exception);
                break;
        }
    }

    /// <summary>What actually went wrong, for the operator: the cause behind an error made for the client.</summary>
    private static string Detail(Exception exception) =>
        exception is ApiException { InnerException: { } inner } ? Detail(inner) : exception.Message;

    /// <summary>True when the vault keeps answered content.</summary>
    private bool Keeping => services.Vault is { IsKeeping: true };

    /// <summary>
    /// Hands a sealed answer's exact bytes to the vault, and tells <paramref name="writer"/> once they are kept (a stored
    /// response is claimed then); true when they were kept. The seal already stands, so a vault that cannot write costs
    /// only the later disclosure (or reading back) of this answer, never the answer itself.
    /// </summary>
    private bool Keep(InferenceRecord record, byte[]? response, IAnswerWriter? writer = null)
    {
        if (!Keeping || record.RequestBody is null || response is null)
        {
            return false;
        }

        try
        {
            if (!services.Vault!.Keep(record.Id, record.RequestBody, response))
            {
                return false;
            }

            writer?.Kept(record.Key);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or Ledger.State.StateUnavailableException)
        {
            LogVaultFailure(logger, record.Id, e);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Inference {EntryId} was sealed but its content could not be kept in the vault")]
    private static partial void LogVaultFailure(ILogger logger, string entryId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inference {EntryId} failed with {Status}")]
    private static partial void LogFailure(ILogger logger, string entryId, int status, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inference {EntryId} answered {Status}: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string entryId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference {EntryId} cancelled: the client went away")]
    private static partial void LogClientGone(ILogger logger, string entryId);

    /// <summary>
    /// Logs a failed seal: in full the first time the log is found stopped, then one line per refused request, since
    /// every later one fails for the same reason until a restart and a stack trace each would bury it.
    /// </summary>
    private void ReportSealFailure(string entryId, Exception failure)
    {
        if (failure is LogFailedException && Interlocked.Exchange(ref _stoppedLogReported, 1) == 1)
        {
            LogSealRefused(logger, entryId);
        }
        else
        {
            LogSealFailure(logger, entryId, failure);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Inference {EntryId} could not be sealed; no answer was given")]
    private static partial void LogSealFailure(ILogger logger, string entryId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Inference {EntryId} refused (503): the log has stopped sealing (see the first error above); restart once the cause is fixed")]
    private static partial void LogSealRefused(ILogger logger, string entryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {EntryId} ended early: {Reason}")]
    private static partial void LogStreamEnded(ILogger logger, string entryId, string reason, Exception? exception);
}
