using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Sios.Server.Access;

namespace Sios.Cli.Hosting;

/// <summary>
/// Talks to a running server's control socket (HTTP over a Unix domain socket): while the server holds the log, key
/// changes must be sealed by it, not by a second writer.
/// </summary>
internal sealed class ControlClient : IDisposable
{
    private readonly HttpClient _http;

    public ControlClient(string socketPath)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://sios/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string SocketPath { get; }

    /// <summary>Asks the server to create a key; returns its id and the secret (shown once).</summary>
    public async Task<(string Id, string Secret)> CreateKeyAsync(string name, ApiKeyRole role, IReadOnlyList<string> brains, int? rpm, int? tpm, CancellationToken ct)
    {
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteString("role", ApiKeyRoleNames.ToName(role));
            json.WriteStartArray("brains");
            foreach (var brain in brains)
            {
                json.WriteStringValue(brain);
            }

            json.WriteEndArray();
            WriteNullable(json, "rpm", rpm);
            WriteNullable(json, "tpm", tpm);
            json.WriteEndObject();
        }

        using var answer = await PostAsync("control/keys", body.ToArray(), ct).ConfigureAwait(false);
        return (Member(answer, "id"), Member(answer, "secret"));
    }

    /// <summary>Asks the server to revoke the live key named <paramref name="name"/>; returns its id.</summary>
    public async Task<string> RevokeKeyAsync(string name, CancellationToken ct)
    {
        using var answer = await PostAsync($"control/keys/{Uri.EscapeDataString(name)}/revoke", null, ct).ConfigureAwait(false);
        return Member(answer, "id");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// POSTs and returns the 200 answer's JSON. A server that cannot be reached at all throws
    /// <see cref="ControlUnreachableException"/> (nothing was asked); every failure after that is a <see cref="CliException"/>.
    /// </summary>
    private async Task<JsonDocument> PostAsync(string path, byte[]? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new("application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new ControlUnreachableException($"the control socket {SocketPath} does not answer: {e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The request may have reached the server: the change may or may not have happened.
            throw new CliException($"the server's control socket failed mid-request ({e.Message}); check the outcome with 'sios key list'");
        }

        using (response)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            JsonDocument? document = null;
            try
            {
                document = JsonDocument.Parse(bytes);
            }
            catch (JsonException)
            {
                // Reported below with the status, which says more than the parser would.
            }

            if (response.StatusCode == HttpStatusCode.OK && document is not null)
            {
                return document;
            }

            var message = ErrorMessage(document) ?? $"the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            document?.Dispose();
            var code = response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Conflict
                ? ExitCodes.Usage
                : ExitCodes.Failed;
            throw new CliException(message, code);
        }
    }

    private static string? ErrorMessage(JsonDocument? document) =>
        document is not null
        && document.RootElement.ValueKind == JsonValueKind.Object
        && document.RootElement.TryGetProperty("error", out var error)
        && error.ValueKind == JsonValueKind.Object
        && error.TryGetProperty("message", out var message)
        && message.ValueKind == JsonValueKind.String
            ? message.GetString()
            : null;

    private static string Member(JsonDocument answer, string name) =>
        answer.RootElement.ValueKind == JsonValueKind.Object
        && answer.RootElement.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
        && value.GetString() is { Length: > 0 } text
            ? text
            : throw new CliException($"the server's control answer has no '{name}'; check the outcome with 'sios key list'");

    private static void WriteNullable(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}

/// <summary>Nothing listens on the control socket (absent, or refusing): no request was made.</summary>
internal sealed class ControlUnreachableException(string message, Exception inner) : Exception(message, inner);
