using System.Text.Json;
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
}
