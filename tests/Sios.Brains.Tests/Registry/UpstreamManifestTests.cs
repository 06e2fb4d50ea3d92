using CsCheck;
using Sios.Brains.Registry;

namespace Sios.Brains.Tests.Registry;

/// <summary>A brain is either local weights or an upstream endpoint; the upstream's own fields are checked.</summary>
public sealed class UpstreamManifestTests
{
    private const string Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static BrainManifest Remote(string url = "http://gpu1.lan:8080", string model = "llama3.1:8b", string? keyEnv = null) => new()
    {
        Name = "remote",
        Upstream = new UpstreamBrain { Url = new Uri(url, UriKind.RelativeOrAbsolute), Model = model, ApiKeyEnv = keyEnv },
    };

    private static string Single(BrainManifest brain)
    {
        var problem = Assert.Single(brain.Problems(requirePins: true));
        var e = Assert.Throws<BrainManifestException>(() => brain.Validate(requirePins: true));
        Assert.Equal($"brain '{brain.Name}' is not valid: {problem}", e.Message);
        return problem;
    }

    [Theory]
    [InlineData("http://gpu1.lan:8080")]
    [InlineData("https://vllm.internal/")]
    [InlineData("http://10.0.0.7:11434")]
    [InlineData("http://[fd00::1]:8000/")]
    [InlineData("https://gateway.lan/llama/")]
    public void An_upstream_brain_needs_no_pins_and_is_valid(string url)
    {
        var brain = Remote(url, keyEnv: "GPU1_TOKEN");
        Assert.Empty(brain.Problems(requirePins: true));
        Assert.Empty(brain.Problems(requirePins: false));
    }

    [Fact]
    public void A_brain_with_neither_a_model_nor_an_upstream_is_refused()
    {
        Assert.Equal("a brain needs a model file or an upstream endpoint", Single(new BrainManifest { Name = "empty" }));
    }

    [Theory]
    [InlineData("path")]
    [InlineData("digest")]
    [InlineData("blank-path")]
    public void A_brain_with_both_a_model_and_an_upstream_is_refused(string local)
    {
        var both = local switch
        {
            "path" => Remote() with { ModelPath = "/m.gguf" },
            "digest" => Remote() with { ModelSha256 = Digest },
            _ => Remote() with { ModelPath = " " },
        };
        Assert.Equal("a brain has either a model file or an upstream endpoint, not both", Single(both));
    }

    [Theory]
    [InlineData("adapter")]
    [InlineData("adapter-digest")]
    [InlineData("scale")]
    public void An_adapter_is_refused_on_an_upstream(string setting)
    {
        var brain = setting switch
        {
            "adapter" => Remote() with { AdapterPath = "/a.gguf" },
            "adapter-digest" => Remote() with { AdapterSha256 = Digest },
            _ => Remote() with { AdapterScale = 0.5f },
        };
        Assert.Equal("an adapter applies to a local model file, not to an upstream endpoint", Single(brain));
    }

    [Fact]
    public void Context_size_and_threads_are_refused_on_an_upstream()
    {
        const string problem = "the context size and threads are set on the upstream's own server, not in the brain";
        Assert.Equal(problem, Single(Remote() with { ContextSize = 2048 }));
        Assert.Equal(problem, Single(Remote() with { Threads = 4 }));
    }

    [Theory]
    [InlineData("/srv/upstream", "the upstream URL must be an absolute http or https URL (got '/srv/upstream')")]
    [InlineData("relative/path", "the upstream URL must be an absolute http or https URL (got 'relative/path')")]
    [InlineData("ftp://gpu1.lan/", "the upstream URL must be an absolute http or https URL (got 'ftp://gpu1.lan/')")]
    [InlineData("file:///etc/passwd", "the upstream URL must be an absolute http or https URL (got 'file:///etc/passwd')")]
    [InlineData("http://gpu1.lan:8080/?key=1", "the upstream URL 'http://gpu1.lan:8080/?key=1' must have no query, fragment or user info (name the variable holding a token instead)")]
    [InlineData("http://gpu1.lan:8080/#top", "the upstream URL 'http://gpu1.lan:8080/#top' must have no query, fragment or user info (name the variable holding a token instead)")]
    [InlineData("http://admin:hunter2@gpu1.lan:8080/", "the upstream URL 'http://admin:hunter2@gpu1.lan:8080/' must have no query, fragment or user info (name the variable holding a token instead)")]
    [InlineData("http://gpu1.lan:11434/v1", "the upstream URL 'http://gpu1.lan:11434/v1' is the endpoint's root, without /v1 (SIOS adds /v1/chat/completions itself)")]
    [InlineData("http://gpu1.lan:11434/V1/", "the upstream URL 'http://gpu1.lan:11434/V1/' is the endpoint's root, without /v1 (SIOS adds /v1/chat/completions itself)")]
    public void Bad_urls_are_refused_with_the_reason(string url, string problem)
    {
        Assert.Equal(problem, Single(Remote(url)));
    }

    [Fact]
    public void A_missing_url_is_refused()
    {
        Assert.Equal("an upstream needs the URL of its endpoint", UpstreamBrain.UrlProblem(null));
        Assert.Null(UpstreamBrain.UrlProblem(new Uri("http://gpu1.lan/v1beta")));
    }

    [Theory]
    [InlineData("", "an upstream needs the model id it serves the model under")]
    [InlineData("   ", "an upstream needs the model id it serves the model under")]
    [InlineData("llama\t3", "the upstream model id cannot contain control characters")]
    [InlineData("llama\n3", "the upstream model id cannot contain control characters")]
    public void Bad_model_ids_are_refused(string model, string problem)
    {
        Assert.Equal(problem, Single(Remote(model: model)));
    }

    [Fact]
    public void Model_ids_are_at_most_200_characters()
    {
        Assert.Empty(Remote(model: new string('m', UpstreamBrain.MaxModelLength)).Problems(requirePins: true));
        Assert.Equal("the upstream model id is at most 200 characters (got 201)", Single(Remote(model: new string('m', 201))));
    }

    [Theory]
    [InlineData("GPU1_TOKEN", true)]
    [InlineData("_t", true)]
    [InlineData("lower_case9", true)]
    [InlineData("", false)]
    [InlineData("1TOKEN", false)]
    [InlineData("MY-TOKEN", false)]
    [InlineData("TOKEN=abc", false)]
    [InlineData("sk-live-0123456789", false)]
    public void The_key_variable_must_be_an_environment_variable_name(string name, bool valid)
    {
        var problems = Remote(keyEnv: name).Problems(requirePins: true);
        if (valid)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.StartsWith($"the upstream key variable '{name}' is not an environment variable name", Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Key_variable_names_are_exactly_the_pattern()
    {
        const string first = "abcxyzABCXYZ_";
        const string rest = first + "0123456789";
        Gen.String[Gen.Char["aZ_09-= .\u00e9"], 0, 130].Sample(name =>
        {
            var expected = name.Length is >= 1 and <= 128 && first.Contains(name[0]) && name.All(rest.Contains);
            return (Remote(keyEnv: name).Problems(requirePins: true).Count == 0) == expected;
        });
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        var brain = Remote("ftp://x/", "") with { ModelPath = "/m.gguf", Threads = 2 };
        Assert.Equal(4, brain.Problems(requirePins: true).Count);
    }

    [Fact]
    public void Upstreams_compare_by_value_so_a_changed_registration_is_noticed()
    {
        Assert.Equal(Remote(), Remote());
        Assert.NotEqual(Remote(), Remote(model: "other"));
        Assert.NotEqual(Remote(), Remote("http://gpu2.lan:8080"));
        Assert.NotEqual(Remote(), Remote(keyEnv: "T"));
    }
}
