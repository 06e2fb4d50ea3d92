using System.Text.Json;
using Sios.Brains.Integrity;
using Sios.Brains.Registry;
using Sios.Verify;

namespace Sios.Brains.Tests.Registry;

/// <summary>Upstream brains in the registry: nothing hashed, sealed by URL and model, kept in brains.json.</summary>
public sealed class UpstreamRegistryTests : IDisposable
{
    private const string Pinned = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private readonly TempFolder _folder = new();
    private readonly RecordingSealer _sealer = new();

    public void Dispose() => _folder.Dispose();

    private BrainRegistry Registry() => new(_folder.Path, _sealer.Seal);

    private static BrainManifest Remote(string name = "remote", string url = "HTTP://GPU1.lan:8080") => new()
    {
        Name = name,
        Description = "the big model on gpu1",
        Upstream = new UpstreamBrain { Url = new Uri(url), Model = "llama3.1:70b", ApiKeyEnv = "GPU1_TOKEN" },
        Sampling = new SamplingDefaults { MaxTokens = 64 },
    };

    [Fact]
    public async Task Add_seals_brain_registered_with_the_upstream_and_stores_it_canonically()
    {
        var registered = await Registry().AddAsync(Remote());

        Assert.Equal("http://gpu1.lan:8080/", registered.Upstream!.Url.OriginalString);
        Assert.Null(registered.ModelPath);
        Assert.Null(registered.ModelSha256);
        var entry = _sealer.Single();
        Assert.Equal("brain.registered", entry.GetProperty("type").GetString());
        Assert.Equal("remote", entry.GetProperty("brain").GetString());
        Assert.Equal("http://gpu1.lan:8080/", entry.GetProperty("upstream").GetProperty("url").GetString());
        Assert.Equal("llama3.1:70b", entry.GetProperty("upstream").GetProperty("model").GetString());
        Assert.False(entry.TryGetProperty("weights", out _));
        Assert.False(entry.TryGetProperty("model_file", out _));

        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(Registry().Location));
        var stored = Assert.Single(file.RootElement.GetProperty("brains").EnumerateArray());
        Assert.Equal(["name", "description", "upstream", "sampling"], stored.EnumerateObject().Select(p => p.Name));
        var upstream = stored.GetProperty("upstream");
        Assert.Equal("http://gpu1.lan:8080/", upstream.GetProperty("url").GetString());
        Assert.Equal("llama3.1:70b", upstream.GetProperty("model").GetString());
        Assert.Equal("GPU1_TOKEN", upstream.GetProperty("api_key_env").GetString());
    }

    [Fact]
    public async Task An_upstream_brain_survives_reopening_exactly_beside_a_local_one()
    {
        var local = await Registry().AddAsync(new BrainManifest { Name = "local", ModelPath = _folder.RandomModel("m.gguf", 1_000) });
        var remote = await Registry().AddAsync(Remote());
        Assert.Equal([local, remote], new BrainRegistry(_folder.Path).List());
        Assert.Equal(remote, new BrainRegistry(_folder.Path).Get("remote"));
    }

    [Fact]
    public async Task Remove_seals_brain_removed_with_the_upstream()
    {
        var remote = await Registry().AddAsync(Remote());
        Assert.Equal(remote, await Registry().RemoveAsync("remote"));
        var entry = RecordingSealer.Parse(_sealer.Entries[^1]);
        Assert.Equal("brain.removed", entry.GetProperty("type").GetString());
        Assert.Equal(["v", "type", "id", "time", "actor", "brain", "upstream"], entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal("http://gpu1.lan:8080/", entry.GetProperty("upstream").GetProperty("url").GetString());
        Assert.Empty(Registry().List());
    }

    [Fact]
    public async Task Invalid_upstreams_are_refused_before_anything_is_sealed()
    {
        var e = await Assert.ThrowsAsync<BrainManifestException>(() => Registry().AddAsync(Remote(url: "http://gpu1.lan:8080/v1")));
        Assert.Contains("without /v1", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<BrainManifestException>(() => Registry().AddAsync(Remote() with { ModelPath = _folder.RandomModel("m.gguf", 10) }));
        Assert.Empty(_sealer.Entries);
        Assert.False(File.Exists(Registry().Location));
    }

    [Fact]
    public async Task Verify_has_nothing_to_hash_for_an_upstream_and_does_not_fail()
    {
        var remote = await Registry().AddAsync(Remote());
        Assert.Equal(remote, await Registry().VerifyAsync("remote"));
        await BrainRegistry.VerifyWeightsAsync(remote);
    }

    [Fact]
    public async Task CheckWeights_says_an_upstream_has_nothing_to_verify_and_still_checks_local_brains()
    {
        await Registry().AddAsync(Remote());
        var model = _folder.RandomModel("m.gguf", 1_000);
        await Registry().AddAsync(new BrainManifest { Name = "local", ModelPath = model });
        File.WriteAllBytes(model, [1, 2, 3]);
        var reports = new List<HashProgress>();

        var checks = await BrainRegistry.CheckWeightsAsync(Registry().List(), new Collect(reports));

        Assert.Equal(["local", "remote"], checks.Select(c => c.Brain.Name));
        Assert.False(checks[0].NothingToVerify);
        Assert.Equal(model, checks[0].Mismatch!.File);
        Assert.True(checks[1].NothingToVerify);
        Assert.Null(checks[1].Mismatch);
        Assert.All(reports, r => Assert.Equal(model, r.File));
    }

    [Fact]
    public async Task A_registry_file_from_before_upstreams_is_still_read()
    {
        await File.WriteAllTextAsync(Registry().Location, $$$"""
            {"format":1,"brains":[{"name":"old","description":"","model_path":"/srv/m.gguf","model_sha256":"{{{Pinned}}}","sampling":{"stop":[]}}]}
            """);
        var old = Assert.Single(Registry().List());
        Assert.Equal("/srv/m.gguf", old.ModelPath);
        Assert.Equal(Pinned, old.ModelSha256);
        Assert.Null(old.Upstream);
    }

    [Theory]
    [InlineData($$$"""{"format":1,"brains":[{"name":"a","model_path":"/m","model_sha256":"{{{Pinned}}}","upstream":{"url":"http://h/","model":"m"}}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a"}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a","upstream":{"url":"ftp://h/","model":"m"}}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a","upstream":{"url":"h/x","model":"m"}}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a","upstream":{"url":"http://h/","model":""}}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a","upstream":{"url":"http://h/"}}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a","upstream":{"url":null,"model":"m"}}]}""")]
    [InlineData("""{"format":1,"brains":[{"name":"a","upstream":{"url":"http://h/","model":"m","api_key":"sk-1"}}]}""")]
    public async Task A_registry_file_with_a_bad_upstream_is_refused(string content)
    {
        await File.WriteAllTextAsync(Registry().Location, content);
        var e = Assert.Throws<FormatViolationException>(() => Registry().List());
        Assert.Contains(Registry().Location, e.Message, StringComparison.Ordinal);
    }

    private sealed class Collect(List<HashProgress> reports) : IProgress<HashProgress>
    {
        public void Report(HashProgress value) => reports.Add(value);
    }
}
