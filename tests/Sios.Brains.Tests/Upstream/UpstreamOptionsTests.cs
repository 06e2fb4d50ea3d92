using Sios.Brains.Upstream;

namespace Sios.Brains.Tests.Upstream;

public sealed class UpstreamOptionsTests
{
    public static TheoryData<string, string, double> Invalid => new()
    {
        { "ftp://gpu1.lan", "m", 10 },
        { "http://gpu1.lan/?key=1", "m", 10 },
        { "http://user:pw@gpu1.lan", "m", 10 },
        { "http://gpu1.lan", " ", 10 },
        { "http://gpu1.lan", "m", 0 },
        { "http://gpu1.lan", "m", 7200 },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_options_are_rejected(string address, string model, double timeoutSeconds)
    {
        var options = new UpstreamOptions { BaseAddress = new Uri(address), Model = model, Timeout = TimeSpan.FromSeconds(timeoutSeconds) };

        Assert.Throws<ArgumentException>(options.Validate);
        Assert.Throws<ArgumentException>(() => new UpstreamEngine(options, new EgressAllowList([])));
    }

    [Fact]
    public async Task A_base_path_is_kept_and_the_model_id_exposed()
    {
        await using var engine = new UpstreamEngine(
            new UpstreamOptions { BaseAddress = new Uri("https://gpu1.lan:8443/ollama/"), Model = "qwen3:8b", ModelDigest = "sha256:declared" },
            new EgressAllowList(["gpu1.lan"]));

        Assert.Equal("qwen3:8b", engine.ModelId);
        Assert.Equal("sha256:declared", engine.ModelDigest);
        Assert.Equal(new Uri("https://gpu1.lan:8443/ollama/"), engine.BaseAddress);
    }
}
