using System.Text.Json;
using Sios.Brains.Integrity;
using Sios.Brains.Registry;

namespace Sios.Brains.Tests.Registry;

public sealed class BrainEntriesTests
{
    private const string Model = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string Adapter = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    private static readonly BrainManifest Brain = new()
    {
        Name = "law",
        ModelPath = "/srv/models/base.gguf",
        ModelSha256 = Model,
        AdapterPath = "/srv/models/law.lora.gguf",
        AdapterSha256 = Adapter,
        AdapterScale = 0.75f,
    };

    private static JsonElement Parse(byte[] entry) => RecordingSealer.Parse(entry);

    [Fact]
    public void Entries_carry_the_common_members_first_then_the_brain()
    {
        var clock = new FixedClock(new DateTimeOffset(2026, 11, 26, 10, 0, 0, 123, TimeSpan.Zero));
        var entry = Parse(BrainEntries.Loaded(Brain, clock: clock));
        Assert.Equal(["v", "type", "id", "time", "actor", "brain", "weights", "adapter"], entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-11-26T10:00:00.123Z", entry.GetProperty("time").GetString());
        Assert.Equal(Model, entry.GetProperty("weights").GetString());
        Assert.Equal(Adapter, entry.GetProperty("adapter").GetString());
    }

    [Fact]
    public void Removed_names_the_weights_it_had()
    {
        var entry = Parse(BrainEntries.Removed(Brain));
        Assert.Equal("brain.removed", entry.GetProperty("type").GetString());
        Assert.Equal("operator", entry.GetProperty("actor").GetString());
        Assert.Equal(Model, entry.GetProperty("weights").GetString());
    }

    [Fact]
    public void Refused_has_expected_actual_and_a_reason_naming_the_file()
    {
        var mismatch = new WeightMismatchException("/srv/models/base.gguf", Model, Adapter, "model");
        var entry = Parse(BrainEntries.Refused("law", mismatch));
        Assert.Equal(["v", "type", "id", "time", "actor", "brain", "expected", "actual", "reason"], entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal("brain.refused", entry.GetProperty("type").GetString());
        Assert.Equal(Model, entry.GetProperty("expected").GetString());
        Assert.Equal(Adapter, entry.GetProperty("actual").GetString());
        Assert.Equal(mismatch.Message, entry.GetProperty("reason").GetString());
        Assert.Contains("/srv/models/base.gguf", mismatch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registered_refuses_an_unpinned_manifest()
    {
        Assert.Throws<BrainManifestException>(() => BrainEntries.Registered(Brain with { ModelSha256 = null }));
    }

    [Fact]
    public void The_largest_valid_manifest_fits_in_one_entry()
    {
        var big = Brain with
        {
            Name = new string('n', 64),
            Description = new string('d', BrainManifest.MaxDescriptionLength),
            SystemPrompt = new string('p', BrainManifest.MaxSystemPromptLength),
            Sampling = new SamplingDefaults { Stop = Enumerable.Repeat(new string('\u0001', SamplingDefaults.MaxStopLength), SamplingDefaults.MaxStops).ToArray() },
            ModelPath = "/" + new string('m', 255),
            AdapterPath = "/" + new string('a', 255),
        };
        Assert.Empty(big.Problems(requirePins: true));
        Assert.True(BrainEntries.Registered(big).Length <= 65_535);
    }

    private static readonly BrainManifest Remote = new()
    {
        Name = "remote",
        Description = "the big model on gpu1",
        Upstream = new UpstreamBrain { Url = new Uri("http://gpu1.lan:8080/"), Model = "llama3.1:70b", ApiKeyEnv = "GPU1_TOKEN" },
        SystemPrompt = "Be brief.",
        Sampling = new SamplingDefaults { Temperature = 0.5f },
    };

    [Fact]
    public void Loaded_and_removed_name_an_upstream_brain_by_url_and_model_instead_of_weights()
    {
        foreach (var entry in new[] { Parse(BrainEntries.Loaded(Remote)), Parse(BrainEntries.Removed(Remote)) })
        {
            Assert.Equal(["v", "type", "id", "time", "actor", "brain", "upstream"], entry.EnumerateObject().Select(p => p.Name));
            var upstream = entry.GetProperty("upstream");
            Assert.Equal(["url", "model"], upstream.EnumerateObject().Select(p => p.Name));
            Assert.Equal("http://gpu1.lan:8080/", upstream.GetProperty("url").GetString());
            Assert.Equal("llama3.1:70b", upstream.GetProperty("model").GetString());
        }
    }

    [Fact]
    public void Registered_for_an_upstream_has_no_weights_no_files_and_never_the_key_variable()
    {
        var bytes = BrainEntries.Registered(Remote);
        var entry = Parse(bytes);
        Assert.Equal(["v", "type", "id", "time", "actor", "brain", "upstream", "description", "system_prompt_sha256", "sampling"],
            entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal("brain.registered", entry.GetProperty("type").GetString());
        Assert.Equal("llama3.1:70b", entry.GetProperty("upstream").GetProperty("model").GetString());
        Assert.Equal(0.5, entry.GetProperty("sampling").GetProperty("temperature").GetDouble());
        Assert.DoesNotContain("GPU1_TOKEN", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void The_upstream_url_is_sealed_in_canonical_form()
    {
        var brain = Remote with { Upstream = Remote.Upstream! with { Url = new Uri("HTTP://GPU1.lan:8080") } };
        Assert.Equal("http://gpu1.lan:8080/", Parse(BrainEntries.Loaded(brain)).GetProperty("upstream").GetProperty("url").GetString());
    }

    [Fact]
    public void Registered_refuses_an_upstream_brain_that_also_has_weights()
    {
        Assert.Throws<BrainManifestException>(() => BrainEntries.Registered(Remote with { ModelPath = "/m.gguf", ModelSha256 = Model }));
    }

    [Fact]
    public void The_largest_valid_upstream_manifest_fits_in_one_entry()
    {
        var big = Remote with
        {
            Name = new string('n', 64),
            Description = new string('d', BrainManifest.MaxDescriptionLength),
            SystemPrompt = new string('p', BrainManifest.MaxSystemPromptLength),
            Sampling = new SamplingDefaults { Stop = Enumerable.Repeat(new string('\u0001', SamplingDefaults.MaxStopLength), SamplingDefaults.MaxStops).ToArray() },
            Upstream = new UpstreamBrain { Url = LongestUrl('&'), Model = new string('<', UpstreamBrain.MaxModelLength) },
        };
        Assert.Empty(big.Problems(requirePins: true));
        Assert.True(BrainEntries.Registered(big).Length <= 65_535);
    }

    private static Uri LongestUrl(char fill)
    {
        const string root = "https://gpu1.lan/";
        return new Uri(root + new string(fill, UpstreamBrain.MaxUrlLength - root.Length));
    }

    [Fact]
    public void Upstream_urls_are_at_most_the_limit()
    {
        Assert.Null(UpstreamBrain.UrlProblem(LongestUrl('p')));
        Assert.Equal("the upstream URL is at most 2000 characters (got 2001)", UpstreamBrain.UrlProblem(new Uri(LongestUrl('p').AbsoluteUri + "p")));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
