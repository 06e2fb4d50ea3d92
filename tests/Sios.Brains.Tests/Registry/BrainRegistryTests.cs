using System.Security.Cryptography;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Registry;
using Sios.Verify;

namespace Sios.Brains.Tests.Registry;

public sealed class BrainRegistryTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly RecordingSealer _sealer = new();

    public void Dispose() => _folder.Dispose();

    private BrainRegistry Registry() => new(_folder.Path, _sealer.Seal);

    private static string Sha(string path) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private BrainManifest Draft(string name = "coder", string? adapter = null) => new()
    {
        Name = name,
        Description = "writes code",
        ModelPath = File.Exists(_folder.File("base.gguf")) ? _folder.File("base.gguf") : _folder.RandomModel("base.gguf", 70_000),
        AdapterPath = adapter,
        SystemPrompt = "You are a careful programmer.",
        Sampling = new SamplingDefaults { Temperature = 0.2f, TopP = 0.9f, MaxTokens = 256, Stop = ["</s>", "\n\n"], Seed = 42 },
        ContextSize = 2048,
        Threads = 2,
    };

    private static void FlipByte(string path, int offset)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x01;
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public async Task Add_pins_the_digests_of_the_files_and_stores_full_paths()
    {
        var adapter = _folder.RandomAdapter("lora.gguf", 3_000);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, adapter);
        var pinned = await Registry().AddAsync(Draft(adapter: relative));
        Assert.Equal(Sha(_folder.File("base.gguf")), pinned.ModelSha256);
        Assert.Equal(Sha(adapter), pinned.AdapterSha256);
        Assert.Equal(adapter, pinned.AdapterPath);
        Assert.Equal(1f, pinned.AdapterScale);
        Assert.Equal(pinned, Registry().Get("coder"));
    }

    [Fact]
    public async Task Add_seals_brain_registered_with_the_digests_and_the_non_secret_settings()
    {
        var adapter = _folder.RandomAdapter("lora.gguf", 3_000);
        var pinned = await Registry().AddAsync(Draft(adapter: adapter) with { AdapterScale = 0.5f });
        var entry = _sealer.Single();
        Assert.Equal("brain.registered", entry.GetProperty("type").GetString());
        Assert.Equal("operator", entry.GetProperty("actor").GetString());
        Assert.Equal("coder", entry.GetProperty("brain").GetString());
        Assert.Equal(pinned.ModelSha256, entry.GetProperty("weights").GetString());
        Assert.Equal(pinned.AdapterSha256, entry.GetProperty("adapter").GetString());
        Assert.Equal("writes code", entry.GetProperty("description").GetString());
        Assert.Equal("base.gguf", entry.GetProperty("model_file").GetString());
        Assert.Equal("lora.gguf", entry.GetProperty("adapter_file").GetString());
        Assert.Equal(0.5, entry.GetProperty("adapter_scale").GetDouble());
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData("You are a careful programmer."u8)), entry.GetProperty("system_prompt_sha256").GetString());
        var sampling = entry.GetProperty("sampling");
        Assert.Equal(0.2, sampling.GetProperty("temperature").GetDouble(), 6);
        Assert.Equal(0.9, sampling.GetProperty("top_p").GetDouble(), 6);
        Assert.Equal(256, sampling.GetProperty("max_tokens").GetInt32());
        Assert.Equal(["</s>", "\n\n"], sampling.GetProperty("stop").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(42u, sampling.GetProperty("seed").GetUInt32());
        Assert.Equal(2048, entry.GetProperty("context_size").GetInt32());
        Assert.Equal(2, entry.GetProperty("threads").GetInt32());
        var text = System.Text.Encoding.UTF8.GetString(_sealer.Entries[0]);
        Assert.DoesNotContain("careful programmer", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_folder.Path, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_brain_without_an_adapter_has_no_adapter_member()
    {
        await Registry().AddAsync(Draft());
        var entry = _sealer.Single();
        Assert.False(entry.TryGetProperty("adapter", out _));
        Assert.False(entry.TryGetProperty("adapter_scale", out _));
        Assert.Null(Registry().Get("coder").AdapterScale);
    }

    [Fact]
    public async Task The_registry_survives_reopening_exactly()
    {
        var adapter = _folder.RandomAdapter("lora.gguf", 100);
        var first = await Registry().AddAsync(Draft("b-coder", adapter));
        var second = await Registry().AddAsync(Draft("a-writer") with { Description = "", SystemPrompt = null, Sampling = new(), ContextSize = null, Threads = null });
        var reopened = new BrainRegistry(_folder.Path).List();
        Assert.Equal([second, first], reopened);
    }

    [Fact]
    public async Task Duplicates_are_refused_before_anything_is_sealed()
    {
        await Registry().AddAsync(Draft());
        var before = await File.ReadAllBytesAsync(Registry().Location);
        var e = await Assert.ThrowsAsync<BrainRegistryException>(() => Registry().AddAsync(Draft() with { Description = "again" }));
        Assert.Contains("'coder' is already registered", e.Message, StringComparison.Ordinal);
        Assert.Single(_sealer.Entries);
        Assert.Equal(before, await File.ReadAllBytesAsync(Registry().Location));
    }

    [Fact]
    public async Task Missing_files_and_bad_names_are_refused_and_nothing_is_sealed_or_written()
    {
        var missingModel = await Assert.ThrowsAsync<ModelLoadException>(() => Registry().AddAsync(Draft() with { ModelPath = _folder.File("nope.gguf") }));
        Assert.Equal($"the model file {_folder.File("nope.gguf")} does not exist", missingModel.Message);
        var missingAdapter = await Assert.ThrowsAsync<ModelLoadException>(() => Registry().AddAsync(Draft(adapter: _folder.File("nope.lora"))));
        Assert.Contains("adapter file", missingAdapter.Message, StringComparison.Ordinal);
        var badName = await Assert.ThrowsAsync<BrainManifestException>(() => Registry().AddAsync(Draft("Not/OK")));
        Assert.Contains("a name is 1 to 64", badName.Message, StringComparison.Ordinal);
        Assert.Empty(_sealer.Entries);
        Assert.False(File.Exists(Registry().Location));
    }

    [Fact]
    public async Task A_digest_given_in_the_draft_must_match_the_file()
    {
        var draft = Draft();
        var right = Sha(draft.ModelPath!);
        var wrong = "sha256:" + new string('0', 64);
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => Registry().AddAsync(draft with { ModelSha256 = wrong }));
        Assert.Equal(wrong, e.Expected);
        Assert.Equal(right, e.Actual);
        Assert.Empty(_sealer.Entries);
        Assert.Equal(right, (await Registry().AddAsync(draft with { ModelSha256 = right })).ModelSha256);
    }

    [Fact]
    public async Task Add_seals_before_it_commits_so_a_failed_seal_registers_nothing()
    {
        var seenDuringSeal = new List<string>();
        _sealer.WhileSealing = _ => seenDuringSeal.AddRange(new BrainRegistry(_folder.Path).List().Select(b => b.Name));
        _sealer.FailWith = new IOException("the log is gone");
        await Assert.ThrowsAsync<IOException>(() => Registry().AddAsync(Draft()));
        Assert.Empty(Registry().List());

        _sealer.FailWith = null;
        await Registry().AddAsync(Draft());
        Assert.Empty(seenDuringSeal);
        Assert.Equal(["coder"], Registry().List().Select(b => b.Name));
    }

    [Fact]
    public async Task Remove_commits_before_it_seals_brain_removed()
    {
        var pinned = await Registry().AddAsync(Draft());
        await Registry().AddAsync(Draft("other"));
        var seenDuringSeal = new List<string>();
        _sealer.WhileSealing = _ => seenDuringSeal.AddRange(new BrainRegistry(_folder.Path).List().Select(b => b.Name));
        Assert.Equal(pinned, await Registry().RemoveAsync("coder"));
        Assert.Equal(["other"], seenDuringSeal);
        var entry = RecordingSealer.Parse(_sealer.Entries[^1]);
        Assert.Equal("brain.removed", entry.GetProperty("type").GetString());
        Assert.Equal("coder", entry.GetProperty("brain").GetString());
        Assert.Equal(pinned.ModelSha256, entry.GetProperty("weights").GetString());
        Assert.Equal(["other"], Registry().List().Select(b => b.Name));
    }

    [Fact]
    public async Task A_removal_that_cannot_be_sealed_says_so()
    {
        await Registry().AddAsync(Draft());
        _sealer.FailWith = new IOException("disk full");
        var e = await Assert.ThrowsAsync<BrainRegistryException>(() => Registry().RemoveAsync("coder"));
        Assert.Equal("brain 'coder' was removed, but its brain.removed entry could not be sealed: disk full", e.Message);
        Assert.Empty(Registry().List());
    }

    [Fact]
    public async Task Unknown_brains_cannot_be_removed_got_or_verified()
    {
        await Assert.ThrowsAsync<BrainRegistryException>(() => Registry().RemoveAsync("ghost"));
        Assert.Throws<BrainRegistryException>(() => Registry().Get("ghost"));
        await Assert.ThrowsAsync<BrainRegistryException>(() => Registry().VerifyAsync("ghost"));
        Assert.Null(Registry().Find("ghost"));
        Assert.Empty(_sealer.Entries);
    }

    [Fact]
    public async Task A_registry_without_a_sealer_is_read_only()
    {
        var readOnly = new BrainRegistry(_folder.Path);
        await Assert.ThrowsAsync<InvalidOperationException>(() => readOnly.AddAsync(Draft()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => readOnly.RemoveAsync("coder"));
        Assert.Empty(readOnly.List());
    }

    [Fact]
    public async Task Verify_passes_untouched_weights()
    {
        var pinned = await Registry().AddAsync(Draft(adapter: _folder.RandomAdapter("lora.gguf", 500)));
        Assert.Equal(pinned, await Registry().VerifyAsync("coder"));
    }

    [Fact]
    public async Task Flipping_one_byte_of_the_model_fails_verify_naming_the_file_and_both_digests()
    {
        var pinned = await Registry().AddAsync(Draft());
        FlipByte(pinned.ModelPath!, 12_345);
        var actual = Sha(pinned.ModelPath!);
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => Registry().VerifyAsync("coder"));
        Assert.Equal(pinned.ModelPath, e.File);
        Assert.Equal(pinned.ModelSha256, e.Expected);
        Assert.Equal(actual, e.Actual);
        Assert.Contains($"model file {pinned.ModelPath}", e.Message, StringComparison.Ordinal);
        Assert.Contains(pinned.ModelSha256!, e.Message, StringComparison.Ordinal);
        Assert.Contains(actual, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flipping_one_byte_of_the_adapter_fails_verify_naming_the_adapter()
    {
        var pinned = await Registry().AddAsync(Draft(adapter: _folder.RandomAdapter("lora.gguf", 500)));
        FlipByte(pinned.AdapterPath!, 0);
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => Registry().VerifyAsync("coder"));
        Assert.Equal(pinned.AdapterPath, e.File);
        Assert.StartsWith($"adapter file {pinned.AdapterPath} does not match", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_model_fails_verify_as_missing()
    {
        var pinned = await Registry().AddAsync(Draft());
        File.Delete(pinned.ModelPath!);
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => Registry().VerifyAsync("coder"));
        Assert.Null(e.Actual);
        Assert.Contains("is missing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckWeights_hashes_a_shared_base_once_and_reports_each_brain()
    {
        var registry = Registry();
        var names = new[] { "s1", "s2", "s3" };
        foreach (var name in names)
        {
            await registry.AddAsync(Draft(name, _folder.RandomAdapter($"{name}.lora", 100)));
        }

        FlipByte(_folder.File("s2.lora"), 5);
        var reports = new List<HashProgress>();
        var checks = await BrainRegistry.CheckWeightsAsync(registry.List(), new Collect(reports));
        Assert.Equal(names, checks.Select(c => c.Brain.Name));
        Assert.Null(checks[0].Mismatch);
        Assert.Equal(_folder.File("s2.lora"), checks[1].Mismatch!.File);
        Assert.Null(checks[2].Mismatch);
        Assert.Single(reports, r => r.File == _folder.File("base.gguf"));
        Assert.All(reports, r => Assert.Equal(r.Length, r.Hashed));
    }

    [Fact]
    public async Task Concurrent_adds_from_separate_registries_all_land()
    {
        var model = Draft().ModelPath;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            new BrainRegistry(_folder.Path, _sealer.Seal).AddAsync(Draft($"b{i}") with { ModelPath = model }))));
        Assert.Equal(8, Registry().List().Count);
        Assert.Equal(8, _sealer.Entries.Count);
    }

    [Fact]
    public async Task Writes_leave_no_temporary_files_and_private_permissions()
    {
        await Registry().AddAsync(Draft());
        await Registry().RemoveAsync("coder");
        Assert.Equal(["base.gguf", "brains.json", "brains.lock"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Registry().Location));
        }

        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(Registry().Location));
        Assert.Equal(2, json.RootElement.GetProperty("format").GetInt32());
        Assert.Empty(json.RootElement.GetProperty("brains").EnumerateArray());
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"format\":3,\"brains\":[]}")]
    [InlineData("{\"format\":1,\"brains\":[],\"mac\":\"AAAA\"}")]
    [InlineData("{\"format\":1,\"brains\":[],\"extra\":1}")]
    [InlineData("{\"format\":1,\"brains\":[{\"name\":\"a\",\"model_path\":\"/m\"}]}")]
    [InlineData("{\"format\":1,\"brains\":[{\"name\":\"a\",\"model_path\":\"/m\",\"model_sha256\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"description\":null}]}")]
    [InlineData("{\"format\":1,\"brains\":[{\"name\":\"BAD\",\"model_path\":\"/m\",\"model_sha256\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}")]
    [InlineData("{\"format\":1,\"brains\":[{\"name\":\"a\",\"model_path\":\"/m\",\"model_sha256\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},{\"name\":\"a\",\"model_path\":\"/n\",\"model_sha256\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}]}")]
    public async Task A_damaged_registry_file_is_refused_with_its_path(string content)
    {
        await File.WriteAllTextAsync(Registry().Location, content);
        var e = Assert.Throws<FormatViolationException>(() => Registry().List());
        Assert.Contains(Registry().Location, e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<FormatViolationException>(() => Registry().RemoveAsync("a"));
        Assert.Equal(content, await File.ReadAllTextAsync(Registry().Location));
    }

    [Fact]
    public async Task List_json_is_the_manifests_in_snake_case()
    {
        await Registry().AddAsync(Draft());
        using var json = JsonDocument.Parse(BrainRegistry.ToJson(Registry().List()));
        var brain = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal("coder", brain.GetProperty("name").GetString());
        Assert.Equal(Registry().Get("coder").ModelSha256, brain.GetProperty("model_sha256").GetString());
        Assert.Equal(256, brain.GetProperty("sampling").GetProperty("max_tokens").GetInt32());
    }

    private sealed class Collect(List<HashProgress> reports) : IProgress<HashProgress>
    {
        public void Report(HashProgress value) => reports.Add(value);
    }
}
