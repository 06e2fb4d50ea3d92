using System.Text.RegularExpressions;

namespace Sios.Brains.Registry;

/// <summary>
/// Where an upstream brain is answered: an OpenAI-compatible endpoint the operator runs (llama-server, vLLM, Ollama)
/// and the model id it serves. Only the name of the environment variable holding the endpoint's bearer token is
/// kept, so the token itself never reaches <c>brains.json</c> or the log.
/// </summary>
public sealed partial record UpstreamBrain
{
    /// <summary>Longest model id accepted (it is sealed in the log with every answer).</summary>
    public const int MaxModelLength = 200;

    /// <summary>Longest URL accepted, in its canonical form (it is sealed in the log, whose entries are at most 64 KiB).</summary>
    public const int MaxUrlLength = 2000;

    /// <summary>The endpoint's root, e.g. <c>http://gpu1.lan:8080</c>; SIOS adds <c>/v1/chat/completions</c> itself.</summary>
    public required Uri Url { get; init; }

    /// <summary>The model id the upstream serves the model under (sent with every request, sealed with every answer).</summary>
    public required string Model { get; init; }

    /// <summary>The environment variable holding the upstream's bearer token, read when the brain is loaded; null for none.</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>Every problem with this upstream, as sentences a person can act on; empty when it is valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (UrlProblem(Url) is { } url)
        {
            problems.Add(url);
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            problems.Add("an upstream needs the model id it serves the model under");
        }
        else if (Model.Length > MaxModelLength)
        {
            problems.Add($"the upstream model id is at most {MaxModelLength} characters (got {Model.Length})");
        }
        else if (Model.Any(char.IsControl))
        {
            problems.Add("the upstream model id cannot contain control characters");
        }

        if (ApiKeyEnv is not null && !EnvironmentNamePattern().IsMatch(ApiKeyEnv))
        {
            problems.Add($"the upstream key variable '{ApiKeyEnv}' is not an environment variable name (1 to 128 of A-Z, a-z, 0-9 and '_', not starting with a digit)");
        }

        return problems;
    }

    /// <summary>Why <paramref name="url"/> cannot be an upstream's root, or null when it can.</summary>
    public static string? UrlProblem(Uri? url)
    {
        if (url is null)
        {
            return "an upstream needs the URL of its endpoint";
        }

        // Query, Fragment and UserInfo throw on a relative URI, so the scheme check must come first.
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            return $"the upstream URL must be an absolute http or https URL (got '{url.OriginalString}')";
        }

        if (url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
        {
            return $"the upstream URL '{url.OriginalString}' must have no query, fragment or user info (name the variable holding a token instead)";
        }

        if (url.AbsoluteUri.Length > MaxUrlLength)
        {
            return $"the upstream URL is at most {MaxUrlLength} characters (got {url.AbsoluteUri.Length})";
        }

        // OpenAI-style base URLs usually end in /v1; SIOS adds it, and /v1/v1/... would only fail at the first request.
        if (url.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            return $"the upstream URL '{url.OriginalString}' is the endpoint's root, without /v1 (SIOS adds /v1/chat/completions itself)";
        }

        return null;
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentNamePattern();
}
