using System.Text;
using Sios.Verify.Entries;

namespace Sios.Verify.Tests.Entries;

public sealed class BrainEntryTests
{
    private const string Weights = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string Adapter = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private static readonly BrainRef Local = new("qwen", Weights, Adapter);
    private static readonly BrainRef Remote = new("remote", Upstream: new UpstreamRef("https://llm.example:8443/api", "big-1"));

    private const string RegisteredLocal = """{"v":1,"type":"brain.registered","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","brain":"qwen","weights":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","adapter":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","description":"Qwen 2.5 \u0022small\u0022 \u00E9\u002B","model_file":"qwen.gguf","adapter_file":"legal.gguf","adapter_scale":0.75,"system_prompt_sha256":"sha256:213c22ed7234eb11116e1e88f314c73cb3a019b5c87fe224b6ce5665bd9ec50e","sampling":{"temperature":0.7,"top_p":0.9,"max_tokens":256,"stop":["\u003C/s\u003E","\n\n"],"seed":42},"context_size":4096,"threads":4}""";

    private const string RegisteredPlain = """{"v":1,"type":"brain.registered","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","brain":"tiny","weights":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","description":"","model_file":"tiny.gguf","sampling":{"stop":[]}}""";

    private const string RegisteredUpstream = """{"v":1,"type":"brain.registered","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","brain":"remote","upstream":{"url":"https://llm.example:8443/api","model":"big-1"},"description":"Hosted","sampling":{"stop":[]}}""";

    private const string RemovedLocal = """{"v":1,"type":"brain.removed","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","brain":"qwen","weights":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","adapter":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}""";

    private const string RemovedUpstream = """{"v":1,"type":"brain.removed","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","brain":"remote","upstream":{"url":"https://llm.example:8443/api","model":"big-1"}}""";

    private const string LoadedLocal = """{"v":1,"type":"brain.loaded","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","brain":"qwen","weights":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","adapter":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}""";

    private const string LoadedUpstream = """{"v":1,"type":"brain.loaded","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","brain":"remote","upstream":{"url":"https://llm.example:8443/api","model":"big-1"}}""";

    private const string RefusedActual = """{"v":1,"type":"brain.refused","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"system","brain":"qwen","expected":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","actual":"sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd","reason":"weight file /m/qwen.gguf does not match its pinned digest: expected sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, actual sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"}""";

    private const string RefusedMissing = """{"v":1,"type":"brain.refused","id":"0198a6b0-4c1e-7d2a-9f3b-5e6d7c8b9a01","time":"2026-11-26T10:00:00.123Z","actor":"operator","brain":"qwen","expected":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","reason":"weight file /m/qwen.gguf is missing; it was pinned to sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""";

    [Fact]
    public void A_local_registration_with_every_setting_is_written_byte_for_byte_and_read_back()
    {
        var entry = new BrainRegisteredEntry(
            "operator", Local, "Qwen 2.5 \"small\" é+", "qwen.gguf", "legal.gguf", 0.75f,
            "sha256:213c22ed7234eb11116e1e88f314c73cb3a019b5c87fe224b6ce5665bd9ec50e",
            new SamplingSettings(0.7f, 0.9f, 256, ["</s>", "\n\n"], 42), 4096, 4);
        var read = Golden.Check(entry, RegisteredLocal, BrainRegisteredEntry.Read).Body;
        Assert.Equal(Local, read.Brain);
        Assert.Equal("Qwen 2.5 \"small\" é+", read.Description);
        Assert.Equal(0.75f, read.AdapterScale);
        Assert.Equal(["</s>", "\n\n"], read.Sampling.Stop);
        Assert.Equal((0.7f, 0.9f, 256, 42u), (read.Sampling.Temperature, read.Sampling.TopP, read.Sampling.MaxTokens, read.Sampling.Seed));
        Assert.Equal((4096, 4), (read.ContextSize, read.Threads));
    }

    [Fact]
    public void Unset_settings_and_upstream_brains_are_written_without_them()
    {
        var plain = new BrainRegisteredEntry("operator", new BrainRef("tiny", "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"), "", "tiny.gguf", null, null, null, new SamplingSettings(null, null, null, [], null), null, null);
        var read = Golden.Check(plain, RegisteredPlain, BrainRegisteredEntry.Read).Body;
        Assert.Null(read.AdapterFile);
        Assert.Null(read.Sampling.Seed);

        var upstream = new BrainRegisteredEntry("operator", Remote, "Hosted", null, null, null, null, new SamplingSettings(null, null, null, [], null), null, null);
        Assert.Equal(Remote, Golden.Check(upstream, RegisteredUpstream, BrainRegisteredEntry.Read).Body.Brain);
    }

    [Fact]
    public void Removals_and_loads_name_the_brain_by_its_pins_or_its_upstream()
    {
        Assert.Equal(Local, Golden.Check(new BrainRemovedEntry("operator", Local), RemovedLocal, BrainRemovedEntry.Read).Body.Brain);
        Assert.Equal(Remote, Golden.Check(new BrainRemovedEntry("operator", Remote), RemovedUpstream, BrainRemovedEntry.Read).Body.Brain);
        Assert.Equal(Local, Golden.Check(new BrainLoadedEntry("system", Local), LoadedLocal, BrainLoadedEntry.Read).Body.Brain);
        Assert.Equal(Remote, Golden.Check(new BrainLoadedEntry("system", Remote), LoadedUpstream, BrainLoadedEntry.Read).Body.Brain);
    }

    [Fact]
    public void A_refusal_has_the_actual_digest_only_when_the_file_is_there()
    {
        var changed = new BrainRefusedEntry(
            "system", "qwen", Weights, "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
            "weight file /m/qwen.gguf does not match its pinned digest: expected sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, actual sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
        Assert.NotNull(Golden.Check(changed, RefusedActual, BrainRefusedEntry.Read).Body.Actual);
        var missing = new BrainRefusedEntry("operator", "qwen", Weights, null, "weight file /m/qwen.gguf is missing; it was pinned to sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        Assert.Null(Golden.Check(missing, RefusedMissing, BrainRefusedEntry.Read).Body.Actual);
    }

    [Theory]
    [InlineData("\"description\":\"\",")]
    [InlineData(",\"sampling\":{\"stop\":[]}")]
    [InlineData("\"stop\":[]")]
    [InlineData("\"brain\":\"tiny\",")]
    [InlineData("\"weights\":\"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\",")]
    public void A_registration_missing_a_member_it_needs_is_refused(string member) =>
        Golden.RefusedWithout(RegisteredPlain, member, BrainRegisteredEntry.Read);

    [Fact]
    public void Removals_loads_and_refusals_need_their_members_too()
    {
        Golden.RefusedWithout(RemovedUpstream, ",\"upstream\":{\"url\":\"https://llm.example:8443/api\",\"model\":\"big-1\"}", BrainRemovedEntry.Read);
        Golden.RefusedWithout(LoadedUpstream, "\"url\":\"https://llm.example:8443/api\",", BrainLoadedEntry.Read);
        Golden.RefusedWithout(RefusedMissing, "\"expected\":\"" + Weights + "\",", BrainRefusedEntry.Read);
        Golden.RefusedWithout(RefusedMissing, "\"brain\":\"qwen\",", BrainRefusedEntry.Read);
    }

    [Fact]
    public void A_sampling_number_that_is_not_a_number_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes(RegisteredLocal.Replace("\"top_p\":0.9", "\"top_p\":\"0.9\"", StringComparison.Ordinal));
        Assert.False(BrainRegisteredEntry.TryRead(bytes, out _));
        Assert.False(BrainRemovedEntry.TryRead(Encoding.UTF8.GetBytes(RegisteredLocal), out _));
    }
}
