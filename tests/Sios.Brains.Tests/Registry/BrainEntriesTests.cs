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

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
