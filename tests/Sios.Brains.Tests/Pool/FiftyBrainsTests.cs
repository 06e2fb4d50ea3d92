using Sios.Brains.Engines;
using Sios.Brains.Tests.Engines;

namespace Sios.Brains.Tests.Pool;

/// <summary>
/// Issue 3's "50 brains must be servable from one machine": 47 LoRA specialists of one base plus two other models,
/// answered one by one through a pool whose budget cannot hold all three models and whose count limit is far below 50.
/// In the llama.cpp collection so that no other test loads models while <see cref="LlamaModel.LoadCount"/> is compared.
/// </summary>
[Collection(LlamaTestGroup.Name)]
public sealed class FiftyBrainsTests : IDisposable
{
    private readonly PoolWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task Fifty_brains_answer_within_the_budget_and_the_count_limit()
    {
        var basePath = _world.Model("base.gguf", seed: 11);
        var other1 = _world.Model("other-1.gguf", seed: 12);
        var other2 = _world.Model("other-2.gguf", seed: 13);
        var specialists = new List<string>();
        for (var i = 0; i < 47; i++)
        {
            var name = $"spec-{i:D2}";
            await _world.AddAsync(name, basePath, _world.Adapter($"lora-{i:D2}.gguf", basePath, seed: (ulong)(100 + i)));
            specialists.Add(name);
        }

        await _world.AddAsync("other-1", other1);
        await _world.AddAsync("other-2", other2);
        Assert.Equal(49, _world.Registry.List().Count);
        await _world.AddAsync("spec-plain", basePath);
        specialists.Add("spec-plain");

        var modelBytes = new FileInfo(basePath).Length;
        var adapterBytes = new FileInfo(_world.File("lora-00.gguf")).Length;
        Assert.Equal(modelBytes, new FileInfo(other1).Length);
        // Two models and a handful of adapters fit; the three models together do not.
        var budget = (2 * modelBytes) + (10 * adapterBytes);
        Assert.True(3 * modelBytes > budget);
        const int maxLoaded = 6;

        // Two distinct models in a row in the middle force the base out, so it must come back (a second residency).
        string[] order = [.. specialists.Take(20), "other-1", "other-2", .. specialists.Skip(20)];
        Assert.Equal(50, order.Distinct().Count());

        var loadsBefore = LlamaModel.LoadCount;
        var residencies = new Dictionary<string, int>(StringComparer.Ordinal);
        IReadOnlyList<string> resident = [];
        long peakBytes = 0;
        var peakLoaded = 0;
        var answers = new Dictionary<string, (string Text, Usage Usage)>(StringComparer.Ordinal);
        await using (var pool = _world.Pool(budget, maxLoaded))
        {
            foreach (var name in order)
            {
                answers[name] = await PoolWorld.AskAsync(pool, name);
                var snapshot = pool.Snapshot();
                foreach (var model in snapshot.ResidentModels.Except(resident))
                {
                    residencies[model] = residencies.GetValueOrDefault(model) + 1;
                }

                resident = snapshot.ResidentModels;
                peakBytes = Math.Max(peakBytes, snapshot.UsedBytes);
                peakLoaded = Math.Max(peakLoaded, snapshot.Loaded.Count);
            }

            var final = pool.Snapshot();
            Assert.Equal(LlamaModel.LoadCount - loadsBefore, final.ModelLoads);
            Assert.Equal(residencies.Values.Sum(), final.ModelLoads);
            Assert.True(final.PeakBytes <= budget, $"peak {final.PeakBytes} > budget {budget}");
            Assert.True(final.PeakLoaded <= maxLoaded, $"peak {final.PeakLoaded} brains > {maxLoaded}");
            Assert.Equal(50, final.Loads);
            Assert.Equal(50 - final.Loaded.Count, final.Evictions);
        }

        Assert.Equal(50, answers.Count);
        Assert.All(answers.Values, a => Assert.Equal(4, a.Usage.CompletionTokens));
        Assert.All(answers.Values, a => Assert.False(string.IsNullOrEmpty(a.Text)));
        // Fifty brains on three files: the shared base is loaded once per residency, not once per specialist.
        Assert.Equal(2, residencies[basePath]);
        Assert.Equal(1, residencies[other1]);
        Assert.Equal(1, residencies[other2]);
        Assert.True(peakBytes <= budget);
        Assert.True(peakLoaded <= maxLoaded);

        var loaded = _world.Entries("brain.loaded");
        Assert.Equal(50, loaded.Count);
        Assert.Equal(order.Order(StringComparer.Ordinal), loaded.Select(e => e.GetProperty("brain").GetString()!).Order(StringComparer.Ordinal));
        Assert.Empty(_world.Entries("brain.refused"));
    }
}
