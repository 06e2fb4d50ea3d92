using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sios.Server.Http;

/// <summary>
/// The outermost middleware: any exception a route lets through, and the framework's bare 404/405, become error
/// objects in the shape of the door the path leads to (<see cref="ErrorShapes"/>; what Kestrel refuses before this runs
/// gets OpenAI's from <see cref="KestrelRejections"/>). A client
/// never sees a stack trace; an unforeseen failure is a 500 whose details stay in the log.
/// </summary>
internal static partial class ErrorResponses
{
    public static IApplicationBuilder UseApiErrors(this IApplicationBuilder app, ILogger logger) => app.Use(async (context, next) =>
    {
        KestrelRejections.InApp(context);
        try
        {
            await next(context).ConfigureAwait(false);
            var response = context.Response;
            if (!response.HasStarted && response.ContentLength is null && response.StatusCode is 404 or 405)
            {
                var error = response.StatusCode == 404
                    ? new ApiException(404, $"There is no '{context.Request.Path}' here; see the OpenAI and Anthropic routes under /v1, the Ollama routes under /api and the log under /log.", code: "not_found")
                    : new ApiException(405, $"'{context.Request.Path}' does not take {context.Request.Method}.", code: "method_not_allowed");
                await error.WriteAsync(context, ErrorShapes.For(context.Request)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!context.Response.HasStarted && ApiException.ForRequest(context, e, null) is { } error)
        {
            if (error.Status == StatusCodes.Status500InternalServerError)
            {
                LogUnhandled(logger, context.Request.Method, context.Request.Path, e);
            }

            await error.WriteAsync(context, ErrorShapes.For(context.Request)).ConfigureAwait(false);
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested && e is OperationCanceledException or IOException)
        {
            // The client went away; there is no one to answer.
        }
    });

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogUnhandled(ILogger logger, string method, PathString path, Exception exception);
}
