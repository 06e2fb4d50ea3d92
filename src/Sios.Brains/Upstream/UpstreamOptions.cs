namespace Sios.Brains.Upstream;

/// <summary>How a brain reaches the OpenAI-compatible endpoint an operator hosts (llama-server, vLLM, Ollama).</summary>
public sealed record UpstreamOptions
{
    /// <summary>The endpoint's root, e.g. <c>http://gpu1.lan:8080</c>; requests go to <c>{root}/v1/chat/completions</c> and <c>{root}/v1/embeddings</c>.</summary>
    public required Uri BaseAddress { get; init; }

    /// <summary>The upstream's model id, sent with every request and sealed with every answer.</summary>
    public required string Model { get; init; }

    /// <summary>A bearer token for the upstream, or null; it is sent only to <see cref="BaseAddress"/> and never logged.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Longest a whole request may take, streaming included; the request is aborted when it runs out.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The digest of the upstream's weights as declared by the operator (not verifiable from here), or empty.</summary>
    public string ModelDigest { get; init; } = string.Empty;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (BaseAddress is null || !BaseAddress.IsAbsoluteUri || (BaseAddress.Scheme != Uri.UriSchemeHttp && BaseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The upstream base address must be an absolute http or https URL (got '{BaseAddress}').", nameof(BaseAddress));
        }

        if (!string.IsNullOrEmpty(BaseAddress.Query) || !string.IsNullOrEmpty(BaseAddress.Fragment) || !string.IsNullOrEmpty(BaseAddress.UserInfo))
        {
            throw new ArgumentException($"The upstream base address '{BaseAddress}' must have no query, fragment or user info (put a token in ApiKey).", nameof(BaseAddress));
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new ArgumentException("The upstream model id is required (the name the upstream serves the model under).", nameof(Model));
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"The upstream timeout must be positive and at most one hour (got {Timeout}).", nameof(Timeout));
        }

        ArgumentNullException.ThrowIfNull(ModelDigest);
    }
}
