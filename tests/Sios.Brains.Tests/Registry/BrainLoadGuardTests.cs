using System.Text.Json;
using Sios.Brains.Integrity;
using Sios.Brains.Registry;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Tests.Storage;
using Sios.Signing;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;

namespace Sios.Brains.Tests.Registry;

public sealed class BrainLoadGuardTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly RecordingSealer _sealer = new();

    public void Dispose() => _folder.Dispose();

    private async Task<BrainManifest> RegisterAsync(bool withAdapter = false)
    {
        var registrar = new RecordingSealer();
        return await new BrainRegistry(_folder.Path, registrar.Seal).AddAsync(new BrainManifest
        {
            Name = "medic",
            ModelPath = _folder.RandomModel("base.gguf", 20_000),
            AdapterPath = withAdapter ? _folder.RandomAdapter("medic.lora", 2_000) : null,
        });
    }

    private static void FlipByte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x80;
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public async Task Matching_weights_load_once_then_seal_brain_loaded()
    {
        var brain = await RegisterAsync(withAdapter: true);
        var loads = 0;
        var result = await new BrainLoadGuard(_sealer.Seal).LoadAsync(brain, (b, _) =>
        {
            loads++;
            Assert.Empty(_sealer.Entries);
            return Task.FromResult(b.Name + " loaded");
        });
        Assert.Equal("medic loaded", result);
        Assert.Equal(1, loads);
        var entry = _sealer.Single();
        Assert.Equal("brain.loaded", entry.GetProperty("type").GetString());
        Assert.Equal("system", entry.GetProperty("actor").GetString());
        Assert.Equal("medic", entry.GetProperty("brain").GetString());
        Assert.Equal(brain.ModelSha256, entry.GetProperty("weights").GetString());
        Assert.Equal(brain.AdapterSha256, entry.GetProperty("adapter").GetString());
    }

    [Fact]
    public async Task A_changed_model_is_refused_sealed_and_never_loaded()
    {
        var brain = await RegisterAsync();
        FlipByte(brain.ModelPath!);
        var loads = 0;
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => new BrainLoadGuard(_sealer.Seal).LoadAsync(brain, (_, _) => Task.FromResult(++loads)));
        Assert.Equal(0, loads);
        var entry = _sealer.Single();
        Assert.Equal("brain.refused", entry.GetProperty("type").GetString());
        Assert.Equal("medic", entry.GetProperty("brain").GetString());
        Assert.Equal(brain.ModelSha256, entry.GetProperty("expected").GetString());
        Assert.Equal(e.Actual, entry.GetProperty("actual").GetString());
        Assert.NotEqual(e.Expected, e.Actual);
        Assert.Contains($"model file {brain.ModelPath}", entry.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_adapter_is_refused_naming_the_adapter()
    {
        var brain = await RegisterAsync(withAdapter: true);
        FlipByte(brain.AdapterPath!);
        await Assert.ThrowsAsync<WeightMismatchException>(() => new BrainLoadGuard(_sealer.Seal).LoadAsync(brain, (_, _) => Task.FromResult(0)));
        var entry = _sealer.Single();
        Assert.Equal(brain.AdapterSha256, entry.GetProperty("expected").GetString());
        Assert.StartsWith($"adapter file {brain.AdapterPath}", entry.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_model_is_refused_without_an_actual_digest()
    {
        var brain = await RegisterAsync();
        File.Delete(brain.ModelPath!);
        await Assert.ThrowsAsync<WeightMismatchException>(() => new BrainLoadGuard(_sealer.Seal).VerifyOrRefuseAsync(brain));
        var entry = _sealer.Single();
        Assert.Equal("brain.refused", entry.GetProperty("type").GetString());
        Assert.False(entry.TryGetProperty("actual", out _));
        Assert.Contains("is missing", entry.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyOrRefuse_seals_nothing_when_the_weights_match()
    {
        var brain = await RegisterAsync(withAdapter: true);
        await new BrainLoadGuard(_sealer.Seal).VerifyOrRefuseAsync(brain);
        Assert.Empty(_sealer.Entries);
    }

    [Fact]
    public async Task A_refusal_that_cannot_be_sealed_still_refuses_and_says_so()
    {
        var brain = await RegisterAsync();
        FlipByte(brain.ModelPath!);
        var failure = new LogFailedException("the log stopped");
        _sealer.FailWith = failure;
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => new BrainLoadGuard(_sealer.Seal).LoadAsync(brain, (_, _) => Task.FromResult(0)));
        Assert.Same(failure, e.InnerException);
        Assert.Equal(brain.ModelSha256, e.Expected);
        Assert.EndsWith("; the refusal could not be sealed: the log stopped", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_load_whose_record_cannot_be_sealed_is_disposed_and_not_returned()
    {
        var brain = await RegisterAsync();
        _sealer.FailWith = new LogFailedException("the log stopped");
        var engine = new FakeEngine();
        await Assert.ThrowsAsync<LogFailedException>(() => new BrainLoadGuard(_sealer.Seal).LoadAsync(brain, (_, _) => Task.FromResult(engine)));
        Assert.True(engine.Disposed);
    }

    [Fact]
    public async Task Refusals_and_loads_are_sealed_in_a_real_transparency_log()
    {
        var brain = await RegisterAsync();
        var signer = new LogSigner("test.example/brains", MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        var keys = signer.VerifierKeys;
        var store = MemoryLogStore.Open("brains-" + Guid.NewGuid().ToString("N"));
        await using var log = await TransparencyLog.OpenAsync(store, signer);
        var guard = new BrainLoadGuard((entry, ct) => log.AppendAsync(entry, ct));

        Assert.Equal(7, await guard.LoadAsync(brain, (_, _) => Task.FromResult(7)));
        FlipByte(brain.ModelPath!);
        await Assert.ThrowsAsync<WeightMismatchException>(() => guard.LoadAsync(brain, (_, _) => Task.FromResult(8)));

        Assert.Equal(2, log.Latest.Size);
        Assert.Equal(2, CheckpointVerifier.ForLogKeys(keys).Verify(log.Latest.Note).Checkpoint.Size);
        var entries = await log.Reader.ReadEntriesAsync(0, 2);
        var types = entries.Select(e => RecordingSealer.Parse(e).GetProperty("type").GetString());
        Assert.Equal(["brain.loaded", "brain.refused"], types);
        using var refused = JsonDocument.Parse(entries[1]);
        Assert.Equal(brain.ModelSha256, refused.RootElement.GetProperty("expected").GetString());
    }

    private sealed class FakeEngine : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task On_a_resident_model_only_the_adapter_is_re_hashed()
    {
        var brain = await RegisterAsync(withAdapter: true);
        var guard = new BrainLoadGuard(_sealer.Seal);
        // The model in memory was verified when it was loaded; what the file holds now does not change it.
        FlipByte(brain.ModelPath!);
        Assert.Equal("ok", await guard.LoadOnResidentModelAsync(brain, (_, _) => Task.FromResult("ok")));
        Assert.Equal("brain.loaded", _sealer.Single().GetProperty("type").GetString());

        FlipByte(brain.AdapterPath!);
        var loads = 0;
        var e = await Assert.ThrowsAsync<WeightMismatchException>(() => guard.LoadOnResidentModelAsync(brain, (_, _) => Task.FromResult(++loads)));
        Assert.Equal(0, loads);
        Assert.Equal(brain.AdapterPath, e.File);
        var refused = RecordingSealer.Parse(_sealer.Entries[^1]);
        Assert.Equal("brain.refused", refused.GetProperty("type").GetString());
        Assert.Equal(brain.AdapterSha256, refused.GetProperty("expected").GetString());
    }
}
