using Sios.Brains.Engines;
using Sios.Brains.Integrity;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Brains.Tests.Engines;

namespace Sios.Brains.Tests.Pool;

[Collection(LlamaTestGroup.Name)]
public sealed class BrainPoolTests : IDisposable
{
    private readonly PoolWorld _world = new();
    private readonly string _base;

    public BrainPoolTests() => _base = _world.Model("base.gguf", seed: 21);

    public void Dispose() => _world.Dispose();

    private async Task AddSpecialistsAsync(params string[] names)
    {
        var seed = 200UL;
        foreach (var name in names)
        {
            await _world.AddAsync(name, _base, _world.Adapter(name + ".lora", _base, seed++));
        }
    }

    private static void FlipByte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public async Task The_least_recently_used_idle_brain_is_evicted_first()
    {
        await AddSpecialistsAsync("a", "b", "c");
        await using var pool = _world.Pool(maxLoaded: 2);
        await PoolWorld.AskAsync(pool, "a");
        await PoolWorld.AskAsync(pool, "b");
        await PoolWorld.AskAsync(pool, "a");
        await PoolWorld.AskAsync(pool, "c");

        var snapshot = pool.Snapshot();
        Assert.Equal(["a", "c"], snapshot.Loaded);
        Assert.Equal(1, snapshot.Evictions);
        Assert.Equal(1, snapshot.ModelLoads);
        Assert.Equal(3, snapshot.Loads);
    }

    [Fact]
    public async Task Adapters_count_against_the_budget_until_their_base_goes()
    {
        await AddSpecialistsAsync("a", "b", "c", "d");
        var modelBytes = new FileInfo(_base).Length;
        var adapterBytes = new FileInfo(_world.File("a.lora")).Length;
        await using var pool = _world.Pool(budget: modelBytes + (3 * adapterBytes));
        await PoolWorld.AskAsync(pool, "a");
        await PoolWorld.AskAsync(pool, "b");
        await PoolWorld.AskAsync(pool, "a");
        Assert.Equal(modelBytes + (2 * adapterBytes), pool.Snapshot().UsedBytes);
        await PoolWorld.AskAsync(pool, "c");
        Assert.Equal(1, pool.Snapshot().ModelLoads);
        Assert.Equal(modelBytes + (3 * adapterBytes), pool.Snapshot().UsedBytes);

        // Unloading specialists does not free their adapters, which stay with the base: only a fresh base makes room.
        await PoolWorld.AskAsync(pool, "d");
        var snapshot = pool.Snapshot();
        Assert.Equal(["d"], snapshot.Loaded);
        Assert.Equal(2, snapshot.ModelLoads);
        Assert.Equal(modelBytes + adapterBytes, snapshot.UsedBytes);
        Assert.Equal(modelBytes + (3 * adapterBytes), snapshot.PeakBytes);
    }

    [Fact]
    public async Task A_leased_brain_is_never_evicted_even_when_it_is_the_oldest()
    {
        await AddSpecialistsAsync("a", "b", "c");
        await using var pool = _world.Pool(maxLoaded: 2);
        var held = await pool.AcquireAsync("a");
        await PoolWorld.AskAsync(pool, "b");
        await PoolWorld.AskAsync(pool, "c");
        Assert.Equal(["a", "c"], pool.Snapshot().Loaded);

        // With both slots leased a third brain has to wait for a lease to come back, however long.
        var c = await pool.AcquireAsync("c");
        var waiting = pool.AcquireAsync("b");
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(4, (await PoolWorld.AnswerAsync(held)).Usage.CompletionTokens);
        Assert.Equal(["a", "c"], pool.Snapshot().Loaded);

        await c.DisposeAsync();
        await using (var b = await waiting.WaitAsync(TimeSpan.FromSeconds(60)))
        {
            Assert.Equal(4, (await PoolWorld.AnswerAsync(b)).Usage.CompletionTokens);
        }

        Assert.Contains("a", pool.Snapshot().Loaded);
        Assert.Equal(4, (await PoolWorld.AnswerAsync(held)).Usage.CompletionTokens);
        await held.DisposeAsync();
    }

    [Fact]
    public async Task A_cancelled_wait_for_room_gives_up_without_loading()
    {
        await AddSpecialistsAsync("a", "b");
        await using var pool = _world.Pool(maxLoaded: 1);
        await using var held = await pool.AcquireAsync("a");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.AcquireAsync("b", cancel.Token));
        Assert.Equal(["a"], pool.Snapshot().Loaded);
        Assert.Equal(1, pool.Snapshot().Loads);
    }

    [Fact]
    public async Task Idle_brains_are_unloaded_after_the_keep_alive_but_leased_ones_stay()
    {
        await AddSpecialistsAsync("a", "b", "c");
        var clock = new ManualClock();
        await using var pool = _world.Pool(keepAlive: TimeSpan.FromMinutes(10), clock: clock);
        await PoolWorld.AskAsync(pool, "a");
        await PoolWorld.AskAsync(pool, "b");
        var c = await pool.AcquireAsync("c");

        clock.Advance(TimeSpan.FromMinutes(6));
        await PoolWorld.AskAsync(pool, "b");
        Assert.Equal(["a", "c", "b"], pool.Snapshot().Loaded);

        // The pool's own timer sweeps: a is 11 minutes idle, b only 5, c is leased.
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(["c", "b"], pool.Snapshot().Loaded);
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(["c"], pool.Snapshot().Loaded);
        Assert.Equal(4, (await PoolWorld.AnswerAsync(c)).Usage.CompletionTokens);

        await c.DisposeAsync();
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(pool.Snapshot().Loaded);
        Assert.Empty(pool.Snapshot().ResidentModels);
        Assert.Equal(0, pool.Snapshot().UsedBytes);
        Assert.Equal(3, pool.Snapshot().Evictions);
        Assert.Equal(0, await pool.EvictIdleAsync());

        await PoolWorld.AskAsync(pool, "a");
        Assert.Equal(2, pool.Snapshot().ModelLoads);
    }

    [Fact]
    public async Task A_tampered_model_is_refused_and_sealed_while_other_brains_keep_serving()
    {
        await AddSpecialistsAsync("a");
        var other = _world.Model("other.gguf", seed: 22);
        await _world.AddAsync("tampered", other);
        FlipByte(other);
        await using var pool = _world.Pool(maxLoaded: 4);
        await using var a = await pool.AcquireAsync("a");

        var e = await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("tampered"));
        Assert.True(e.Refused);
        Assert.Equal("tampered", e.Brain);
        Assert.Contains(other, e.Message, StringComparison.Ordinal);
        var refused = Assert.Single(_world.Entries("brain.refused"));
        Assert.Equal("tampered", refused.GetProperty("brain").GetString());
        Assert.Equal(((WeightMismatchException)e.InnerException!).Actual, refused.GetProperty("actual").GetString());

        Assert.Equal(4, (await PoolWorld.AnswerAsync(a)).Usage.CompletionTokens);
        Assert.Equal(["a"], pool.Snapshot().Loaded);
        Assert.Equal([_base], pool.Snapshot().ResidentModels);
        Assert.Equal(new FileInfo(_base).Length + new FileInfo(_world.File("a.lora")).Length, pool.Snapshot().UsedBytes);
        // A refusal is not remembered as success: asking again re-hashes and refuses again.
        await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("tampered"));
        Assert.Equal(2, _world.Entries("brain.refused").Count);
    }

    [Fact]
    public async Task A_tampered_adapter_is_refused_even_when_its_base_is_already_loaded()
    {
        await AddSpecialistsAsync("a", "b");
        FlipByte(_world.File("b.lora"));
        await using var pool = _world.Pool();
        await PoolWorld.AskAsync(pool, "a");

        var e = await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("b"));
        Assert.True(e.Refused);
        Assert.Contains(_world.File("b.lora"), e.Message, StringComparison.Ordinal);
        Assert.Equal("b", Assert.Single(_world.Entries("brain.refused")).GetProperty("brain").GetString());
        Assert.Equal(4, (await PoolWorld.AskAsync(pool, "a")).Usage.CompletionTokens);
        Assert.Equal(1, pool.Snapshot().ModelLoads);
    }

    [Fact]
    public async Task A_file_llama_cpp_rejects_fails_only_its_own_requests()
    {
        await AddSpecialistsAsync("a");
        var junk = _world.File("junk.gguf");
        // A well-formed GGUF model header with nothing behind it: registrable, but llama.cpp finds no weights.
        new GgufWriter().AddString("general.architecture", "llama").AddString("general.type", "model").WriteTo(junk);
        await _world.AddAsync("junk", junk);
        await using var pool = _world.Pool();

        var failures = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("junk"))));
        Assert.All(failures, f => Assert.IsType<ModelLoadException>(f.InnerException));
        Assert.All(failures, f => Assert.False(f.Refused));
        Assert.All(failures, f => Assert.True(f.Permanent));
        Assert.Equal(4, (await PoolWorld.AskAsync(pool, "a")).Usage.CompletionTokens);
        Assert.Equal(["a"], pool.Snapshot().Loaded);
        Assert.Empty(_world.Entries("brain.refused"));
        Assert.Equal(["a"], _world.Entries("brain.loaded").Select(x => x.GetProperty("brain").GetString()));
    }

    [Fact]
    public async Task Concurrent_acquires_of_an_unloaded_brain_load_it_once()
    {
        await AddSpecialistsAsync("a", "b", "c", "d");
        await using var pool = _world.Pool();
        var loadsBefore = LlamaModel.LoadCount;

        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => pool.AcquireAsync("a"))));
        Assert.Single(leases.Select(l => l.Engine).Distinct());
        await Task.WhenAll(leases.Select(l => PoolWorld.AnswerAsync(l)));
        foreach (var lease in leases)
        {
            await lease.DisposeAsync();
        }

        // Three specialists of one base at once: one base load, three specialist loads.
        var others = await Task.WhenAll(new[] { "b", "c", "d" }.Select(n => Task.Run(() => PoolWorld.AskAsync(pool, n))));
        Assert.All(others, o => Assert.Equal(4, o.Usage.CompletionTokens));

        Assert.Equal(1, LlamaModel.LoadCount - loadsBefore);
        Assert.Equal(1, pool.Snapshot().ModelLoads);
        Assert.Equal(4, pool.Snapshot().Loads);
        Assert.Equal(["a", "b", "c", "d"], _world.Entries("brain.loaded").Select(x => x.GetProperty("brain").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_brain_larger_than_the_whole_budget_fails_with_a_clear_reason()
    {
        await AddSpecialistsAsync("a");
        await using var pool = _world.Pool(budget: 1_000);
        var e = await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("a"));
        Assert.Contains("budget", e.Message, StringComparison.Ordinal);
        Assert.Empty(pool.Snapshot().Loaded);
        await Assert.ThrowsAsync<BrainRegistryException>(() => pool.AcquireAsync("nobody"));
    }

    [Fact]
    public async Task A_re_registered_brain_is_reloaded_with_its_new_weights()
    {
        await AddSpecialistsAsync("a");
        await using var pool = _world.Pool();
        var before = await pool.AcquireAsync("a");
        var firstEngine = before.Engine;

        await _world.Registry.RemoveAsync("a");
        await _world.AddAsync("a", _base, _world.Adapter("a2.lora", _base, seed: 999));
        await using (var after = await pool.AcquireAsync("a"))
        {
            Assert.NotSame(firstEngine, after.Engine);
            Assert.Equal(_world.File("a2.lora"), after.Brain.AdapterPath);
        }

        // The old engine kept serving its lease to the end, then went.
        Assert.Equal(4, (await PoolWorld.AnswerAsync(before)).Usage.CompletionTokens);
        await before.DisposeAsync();
        Assert.Equal(["a"], pool.Snapshot().Loaded);
        Assert.Equal(1, pool.Snapshot().ModelLoads);
    }
}

[Collection(LlamaTestGroup.Name)]
public sealed class BrainPoolConcurrencyTests : IDisposable
{
    private readonly PoolWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task Many_concurrent_requests_over_few_slots_all_answer_within_the_limits()
    {
        var basePath = _world.Model("base.gguf", seed: 31);
        var other = _world.Model("other.gguf", seed: 32);
        var names = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            await _world.AddAsync($"c-{i}", basePath, _world.Adapter($"c-{i}.lora", basePath, (ulong)(300 + i)));
            names.Add($"c-{i}");
        }

        await _world.AddAsync("c-other", other);
        names.Add("c-other");
        var modelBytes = new FileInfo(basePath).Length;
        var adapterBytes = new FileInfo(_world.File("c-0.lora")).Length;
        var budget = modelBytes + (4 * adapterBytes);
        await using var pool = _world.Pool(budget + modelBytes, maxLoaded: 3);

        var random = new Random(7);
        var order = Enumerable.Range(0, 40).Select(_ => names[random.Next(names.Count)]).ToArray();
        using var gate = new SemaphoreSlim(4);
        var answers = await Task.WhenAll(order.Select(name => Task.Run(async () =>
        {
            await gate.WaitAsync();
            try
            {
                return await PoolWorld.AskAsync(pool, name);
            }
            finally
            {
                gate.Release();
            }
        })));

        Assert.All(answers, a => Assert.Equal(4, a.Usage.CompletionTokens));
        var snapshot = pool.Snapshot();
        Assert.True(snapshot.PeakLoaded <= 3, $"peak {snapshot.PeakLoaded}");
        Assert.True(snapshot.PeakBytes <= budget + modelBytes, $"peak {snapshot.PeakBytes}");
        Assert.Equal(snapshot.Loads, _world.Entries("brain.loaded").Count);
        Assert.Equal(snapshot.Loads - snapshot.Loaded.Count, snapshot.Evictions);
    }
}
