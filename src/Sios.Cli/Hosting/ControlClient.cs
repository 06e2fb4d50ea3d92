using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Sios.Brains.Registry;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Node;
using Sios.Server.Access;

namespace Sios.Cli.Hosting;

/// <summary>
/// Talks to a running server's control socket (HTTP over a Unix domain socket): while the server holds the log, key
/// and brain changes must be sealed by it, not by a second writer.
/// </summary>
internal sealed class ControlClient : IDisposable
{
    private static readonly TimeSpan KeyTimeout = TimeSpan.FromSeconds(60);

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
        // Each request sets its own limit: a key change is instant, a brain change may take minutes of hashing.
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://sios/"), Timeout = Timeout.InfiniteTimeSpan };
    }

    public string SocketPath { get; }

    /// <summary>The log opened for sealing, or the refusal when another process (a running server?) holds it.</summary>
    public static async Task<(TransparencyLog? Log, LogInUseException? InUse)> OpenLogOrFindHolderAsync(DataFolder folder, string passphrase, CancellationToken ct)
    {
        try
        {
            return (await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false), null);
        }
        catch (LogInUseException e)
        {
            return (null, e);
        }
    }

    /// <summary>Runs a control request; when no server answers, the log's holder is not a server, so say who it is.</summary>
    public async Task<T> AskAsync<T>(LogInUseException inUse, Func<ControlClient, Task<T>> request)
    {
        if (!File.Exists(SocketPath))
        {
            throw inUse;
        }

        try
        {
            return await request(this).ConfigureAwait(false);
        }
        catch (ControlUnreachableException)
        {
            throw inUse;
        }
    }

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

        using var answer = await PostAsync("control/keys", body.ToArray(), KeyTimeout, ct).ConfigureAwait(false);
        return (Member(answer, "id"), Member(answer, "secret"));
    }

    /// <summary>Asks the server to revoke the live key named <paramref name="name"/>; returns its id.</summary>
    public async Task<string> RevokeKeyAsync(string name, CancellationToken ct)
    {
        using var answer = await PostAsync($"control/keys/{Uri.EscapeDataString(name)}/revoke", null, KeyTimeout, ct).ConfigureAwait(false);
        return Member(answer, "id");
    }

    /// <summary>
    /// Asks the server to register <paramref name="draft"/> (its paths already full paths: the server resolves nothing
    /// against our directory); returns the brain as registered and the index of the attestation sealed after it.
    /// </summary>
    public async Task<(BrainManifest Brain, long? Attestation, string? AttestationProblem)> AddBrainAsync(BrainManifest draft, CancellationToken ct)
    {
        using var answer = await PostAsync("control/brains", BrainRegistry.ManifestToJson(draft), Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
        if (!answer.RootElement.TryGetProperty("brain", out var brain) || brain.ValueKind != JsonValueKind.Object)
        {
            throw new CliException("the server's control answer has no 'brain'; check the outcome with 'sios brain list'");
        }

        BrainManifest added;
        try
        {
            added = BrainRegistry.ManifestFromJson(System.Text.Encoding.UTF8.GetBytes(brain.GetRawText()));
        }
        catch (BrainManifestException e)
        {
            throw new CliException($"the server's control answer holds no usable brain ({e.Message}); check the outcome with 'sios brain list'");
        }

        return (added, Attestation(answer), AttestationProblem(answer));
    }

    /// <summary>Asks the server to remove the brain named <paramref name="name"/>; returns the attestation sealed after it.</summary>
    public async Task<(long? Attestation, string? AttestationProblem)> RemoveBrainAsync(string name, CancellationToken ct)
    {
        // The server answers after its new attestation, which re-hashes the remaining brains' weights: no fixed limit.
        using var answer = await PostAsync($"control/brains/{Uri.EscapeDataString(name)}/remove", null, Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
        return (Attestation(answer), AttestationProblem(answer));
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// POSTs and returns the 200 answer's JSON. A server that cannot be reached at all throws
    /// <see cref="ControlUnreachableException"/> (nothing was asked); every failure after that is a <see cref="CliException"/>.
    /// </summary>
    private async Task<JsonDocument> PostAsync(string path, byte[]? json, TimeSpan timeout, CancellationToken cancel)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        var ct = limit.Token;
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
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
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

    private static long? Attestation(JsonDocument answer) =>
        answer.RootElement.TryGetProperty("attestation", out var index) && index.ValueKind == JsonValueKind.Number ? index.GetInt64() : null;

    private static string? AttestationProblem(JsonDocument answer) =>
        answer.RootElement.TryGetProperty("attestation_problem", out var problem) && problem.ValueKind == JsonValueKind.String ? problem.GetString() : null;

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
