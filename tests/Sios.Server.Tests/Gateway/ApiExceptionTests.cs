using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Ledger.Pipeline;
using Sios.Server.Http;

namespace Sios.Server.Tests.Gateway;

/// <summary>The one mapping from failures to HTTP: client mistakes 4xx, seals that cannot be made 503, nothing else leaks.</summary>
public sealed class ApiExceptionTests
{
    [Fact]
    public void A_full_queue_is_a_503_that_says_when_to_retry()
    {
        var error = ApiException.From(new LogBackpressureException("queue full", TimeSpan.FromSeconds(2)));
        Assert.Equal(503, error.Status);
        Assert.Equal(TimeSpan.FromSeconds(2), error.RetryAfter);
        Assert.Equal("seal_busy", error.Code);
    }

    [Fact]
    public void Failures_map_to_statuses_and_an_unforeseen_one_says_nothing_of_itself()
    {
        Assert.Equal(503, ApiException.From(new LogFailedException("disk")).Status);
        Assert.Equal(404, ApiException.From(new BrainRegistryException("no brain 'x'")).Status);
        Assert.Equal(400, ApiException.From(new ArgumentException("max_tokens must be at least 1", "MaxTokens")).Status);
        Assert.Equal("max_tokens", ApiException.From(new ArgumentException("bad", "MaxTokens")).Param);
        var secret = new InvalidOperationException("connection string Password=hunter2");
        var hidden = ApiException.From(secret);
        Assert.Equal(500, hidden.Status);
        Assert.DoesNotContain("hunter2", System.Text.Encoding.UTF8.GetString(hidden.ToJson()), StringComparison.Ordinal);
    }

    [Fact]
    public void The_body_is_openai_error_object()
    {
        using var doc = JsonDocument.Parse(new ApiException(403, "no", "permission_error", "model", "brain_not_in_scope").ToJson());
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal("no", error.GetProperty("message").GetString());
        Assert.Equal("permission_error", error.GetProperty("type").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Equal("brain_not_in_scope", error.GetProperty("code").GetString());
        using var bare = JsonDocument.Parse(new ApiException("x").ToJson());
        Assert.Equal(JsonValueKind.Null, bare.RootElement.GetProperty("error").GetProperty("code").ValueKind);
    }

    [Fact]
    public void A_brain_that_cannot_load_for_good_is_a_424_without_retry_and_without_the_servers_paths()
    {
        var broken = new BrainLoadException("medic", "the model file /srv/sios/brains/medic.gguf cannot be used", new ModelLoadException("the model file /srv/sios/brains/medic.gguf cannot be used"));
        var refused = new BrainLoadException("medic", "x", new WeightMismatchException("/srv/sios/brains/medic.gguf", "sha256:00", "sha256:11", "model"));
        var tooLarge = new BrainLoadException("medic", "it needs an estimated 9 bytes, more than the pool's whole budget");
        foreach (var (load, code) in new[] { (broken, "brain_load_failed"), (refused, "brain_refused"), (tooLarge, "brain_load_failed") })
        {
            var error = ApiException.From(load);
            Assert.Equal(424, error.Status);
            Assert.Null(error.RetryAfter);
            Assert.Equal(code, error.Code);
            Assert.Equal(ApiException.ServerError, error.Type);
            Assert.DoesNotContain("/srv", error.Message, StringComparison.Ordinal);
            Assert.Contains("'medic'", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_brain_that_cannot_load_for_now_is_a_503_that_says_when_to_retry()
    {
        var stopping = ApiException.From(new BrainLoadException("medic", "cancelled", new OperationCanceledException()));
        Assert.Equal((503, "server_stopping"), (stopping.Status, stopping.Code));
        Assert.NotNull(stopping.RetryAfter);
        var unsealed = ApiException.From(new BrainLoadException("medic", "busy", new LogBackpressureException("queue full", TimeSpan.FromSeconds(3))));
        Assert.Equal((503, "seal_busy", TimeSpan.FromSeconds(3)), (unsealed.Status, unsealed.Code, unsealed.RetryAfter));
        var dns = ApiException.From(new BrainLoadException("remote", "no such host", new System.Net.Sockets.SocketException(11001)));
        Assert.Equal((503, "brain_unavailable"), (dns.Status, dns.Code));
        Assert.NotNull(dns.RetryAfter);
    }

    [Fact]
    public void Cancellation_is_the_client_leaving_the_server_stopping_or_the_deadline()
    {
        using var lifetime = new StoppableLifetime();
        var services = new ServiceCollection().AddSingleton<IHostApplicationLifetime>(lifetime).BuildServiceProvider();
        using var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestServices = services, RequestAborted = aborted.Token };
        var timeout = ApiException.ForRequest(context, new OperationCanceledException(), TimeSpan.FromSeconds(300))!;
        Assert.Equal((408, "timeout"), (timeout.Status, timeout.Code));
        Assert.Contains("300 s", timeout.Message, StringComparison.Ordinal);
        lifetime.StopApplication();
        var stopping = ApiException.ForRequest(context, new TaskCanceledException(), TimeSpan.FromSeconds(300))!;
        Assert.Equal((503, "server_stopping"), (stopping.Status, stopping.Code));
        aborted.Cancel();
        Assert.Null(ApiException.ForRequest(context, new OperationCanceledException(), TimeSpan.FromSeconds(300)));
        Assert.Null(ApiException.ForRequest(context, new InvalidOperationException("anything, once the client is gone"), null));
    }

    [Fact]
    public void A_missing_model_and_one_out_of_scope_read_the_same_and_kestrels_refusals_get_an_error_object()
    {
        var missing = ApiException.ModelNotFound("secret-brain");
        Assert.Equal((404, "model_not_found", "model"), (missing.Status, missing.Code, missing.Param));
        Assert.Equal("The model `secret-brain` does not exist or you do not have access to it.", missing.Message);
        Assert.DoesNotContain("/", ApiException.From(new BrainRegistryException("no brain named 'x' is registered in /srv/sios")).Message, StringComparison.Ordinal);
        foreach (var status in new[] { 400, 408, 411, 413, 414, 431, 505 })
        {
            var rejection = ApiException.ForRejection(status);
            Assert.Equal(status, rejection.Status);
            Assert.False(string.IsNullOrEmpty(rejection.Code));
        }
    }

    private sealed class StoppableLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }
}
