using CsCheck;
using Sios.Brains.Registry;

namespace Sios.Brains.Tests.Registry;

public sealed class BrainManifestTests
{
    private const string Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static BrainManifest Valid() => new() { Name = "coder", ModelPath = "/m.gguf", ModelSha256 = Digest };

    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("coder-7b.q4_k_m")]
    [InlineData("a-._z09")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01")]
    public void Accepts_valid_names(string name) => Assert.True(BrainManifest.IsValidName(name));

    [Theory]
    [InlineData("")]
    [InlineData("A")]
    [InlineData("Coder")]
    [InlineData("-a")]
    [InlineData(".a")]
    [InlineData("_a")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("caf\u00e9")]
    [InlineData("abc\n")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012")]
    [InlineData(null)]
    public void Refuses_invalid_names(string? name) => Assert.False(BrainManifest.IsValidName(name));

    [Fact]
    public void Names_are_exactly_the_pattern()
    {
        const string allowed = "abcdefghijklmnopqrstuvwxyz0123456789._-";
        Gen.String[Gen.Char["abcz09._-A Z/\n\u00e9"], 0, 70].Sample(name =>
        {
            var expected = name.Length is >= 1 and <= 64 && name.All(allowed.Contains) && name[0] is not ('.' or '_' or '-');
            return BrainManifest.IsValidName(name) == expected;
        });
    }

    [Fact]
    public void A_minimal_pinned_manifest_is_valid()
    {
        Assert.Empty(Valid().Problems(requirePins: true));
        Valid().Validate(requirePins: true);
    }

    [Fact]
    public void Pins_are_required_only_when_asked()
    {
        var draft = Valid() with { ModelSha256 = null, AdapterPath = "/a.gguf" };
        Assert.Empty(draft.Problems(requirePins: false));
        Assert.Equal(["the model file has no pinned digest", "the adapter file has no pinned digest"], draft.Problems(requirePins: true));
    }

    [Fact]
    public void Malformed_digests_are_refused_even_in_a_draft()
    {
        var problem = Assert.Single((Valid() with { ModelSha256 = "sha256:XYZ" }).Problems(requirePins: false));
        Assert.Contains("'sha256:XYZ'", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("temperature", "the temperature must be from 0 to 2 (got 2.5)")]
    [InlineData("top_p", "top-p must be above 0 and at most 1 (got 0)")]
    [InlineData("max_tokens", "max tokens must be from 1 to 1048576 (got 0)")]
    [InlineData("context", "the context size must be from 64 to 1048576 tokens (got 8)")]
    [InlineData("threads", "threads must be from 1 to 1024 (got 0)")]
    [InlineData("scale", "the adapter scale must be a number from -10 to 10 (got NaN)")]
    [InlineData("scale-alone", "an adapter digest or scale needs an adapter file")]
    [InlineData("window", "max tokens (512) cannot exceed the context size (256)")]
    [InlineData("stops", "at most 16 stop sequences (got 17)")]
    [InlineData("empty-stop", "each stop sequence is 1 to 200 characters")]
    [InlineData("description", "the description is one line of at most 1000 characters, without control characters")]
    [InlineData("model", "the model path is empty")]
    public void Each_bad_setting_is_explained(string setting, string problem)
    {
        var manifest = setting switch
        {
            "temperature" => Valid() with { Sampling = new() { Temperature = 2.5f } },
            "top_p" => Valid() with { Sampling = new() { TopP = 0f } },
            "max_tokens" => Valid() with { Sampling = new() { MaxTokens = 0 } },
            "context" => Valid() with { ContextSize = 8 },
            "threads" => Valid() with { Threads = 0 },
            "scale" => Valid() with { AdapterPath = "/a", AdapterSha256 = Digest, AdapterScale = float.NaN },
            "scale-alone" => Valid() with { AdapterScale = 0.5f },
            "window" => Valid() with { ContextSize = 256, Sampling = new() { MaxTokens = 512 } },
            "stops" => Valid() with { Sampling = new() { Stop = Enumerable.Repeat("x", 17).ToArray() } },
            "empty-stop" => Valid() with { Sampling = new() { Stop = ["ok", ""] } },
            "description" => Valid() with { Description = "two\nlines" },
            "model" => Valid() with { ModelPath = " " },
            _ => throw new ArgumentOutOfRangeException(nameof(setting)),
        };
        Assert.Equal([problem], manifest.Problems(requirePins: true));
        var e = Assert.Throws<BrainManifestException>(() => manifest.Validate(requirePins: true));
        Assert.Equal($"brain 'coder' is not valid: {problem}", e.Message);
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        var manifest = Valid() with { Name = "Bad Name", Threads = 5000, Sampling = new() { Temperature = -1f } };
        Assert.Equal(3, manifest.Problems(requirePins: true).Count);
    }

    [Fact]
    public void Sampling_defaults_compare_stop_sequences_by_value()
    {
        var a = new SamplingDefaults { Temperature = 0.5f, Stop = ["x", "y"] };
        var b = new SamplingDefaults { Temperature = 0.5f, Stop = new List<string> { "x", "y" } };
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Stop = ["y", "x"] });
        Assert.NotEqual(a, b with { Seed = 1 });
    }
}
