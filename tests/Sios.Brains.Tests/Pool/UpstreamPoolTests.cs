using Sios.Brains.Engines;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Tests.Upstream;
using Sios.Brains.Upstream;
using static Sios.Brains.Tests.Upstream.StubUpstream;

namespace Sios.Brains.Tests.Pool;

/// <summary>The pool serving upstream brains against an OpenAI-compatible stub on 127.0.0.1.</summary>
public sealed class UpstreamPoolTests : IDisposable
{
    private readonly PoolWorld _world = new();
    private readonly StubUpstream _stub = StubUpstream.Start();

    public UpstreamPoolTests() =>
        _stub.Respond = c => Sse(c, [Chunk(role: "assistant"), Chunk("Hello "), Chunk("from upstream"), Chunk(finish: "stop"), UsageChunk(5, 3), Done]);

    public void Dispose()
    {
        _stub.Dispose();
        _world.Dispose();
    }

    private Task<BrainManifest> AddAsync(string name, string model = "stub-model", string? keyEnv = null) =>
        _world.Registry.AddAsync(new BrainManifest
        {
            Name = name,
            Upstream = new UpstreamBrain { Url = _stub.Address(), Model = model, ApiKeyEnv = keyEnv },
        });

    private BrainPool Pool(string[] allow, int maxLoaded = 8, long budget = long.MaxValue, long perBrain = 0) => new(
        _world.Registry, _world.Guard, new BrainPoolOptions
        {
            MaxLoaded = maxLoaded,
            MemoryBudgetBytes = budget,
            PerBrainBytes = perBrain,
            KeepAlive = Timeout.InfiniteTimeSpan,
            Egress = new EgressAllowList(allow),
        });

    [Fact]
    public async Task An_allowed_upstream_brain_answers_and_its_load_is_sealed_by_url_and_model()
    {
        await AddAsync("remote");
        await using var pool = Pool(["127.0.0.1"]);

        var (text, usage) = await PoolWorld.AskAsync(pool, "remote");

        Assert.Equal("Hello from upstream", text);
        Assert.Equal(new Usage(5, 3), usage);
        var sent = Assert.Single(_stub.Requests);
        Assert.Equal("/v1/chat/completions", sent.Path);
        Assert.Equal("stub-model", sent.Body.GetProperty("model").GetString());
        Assert.Null(sent.Authorization);
        var loaded = Assert.Single(_world.Entries("brain.loaded"));
        Assert.Equal("remote", loaded.GetProperty("brain").GetString());
        Assert.Equal(_stub.Address().AbsoluteUri, loaded.GetProperty("upstream").GetProperty("url").GetString());
        Assert.Equal("stub-model", loaded.GetProperty("upstream").GetProperty("model").GetString());
        Assert.False(loaded.TryGetProperty("weights", out _));
        var snapshot = pool.Snapshot();
        Assert.Equal(["remote"], snapshot.Loaded);
        Assert.Empty(snapshot.ResidentModels);
        Assert.Equal(0, snapshot.ModelLoads);
    }

    [Fact]
    public async Task The_lease_exposes_an_upstream_engine_with_no_digest()
    {
        await AddAsync("remote");
        await using var pool = Pool(["127.0.0.1"]);
        await using var lease = await pool.AcquireAsync("remote");
        var engine = Assert.IsType<UpstreamEngine>(lease.Engine);
        Assert.Equal("", engine.ModelDigest);
        Assert.Equal("stub-model", engine.ModelId);
        Assert.Equal(_stub.Address(), engine.BaseAddress);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.7 127.0.0.2 localhost.invalid")]
    public async Task An_upstream_the_allow_list_refuses_fails_to_load_and_nothing_is_sent_or_sealed(string entries)
    {
        var allow = entries.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        await AddAsync("remote");
        var registered = _world.Sealer.Entries.Count;
        await using var pool = Pool(allow);

        var e = await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("remote"));

        Assert.True(e.EgressRefused);
        Assert.False(e.Refused);
        var refused = Assert.IsType<EgressRefusedException>(e.InnerException);
        Assert.Equal("127.0.0.1", refused.Host);
        Assert.Equal(_stub.Port, refused.Port);
        Assert.Contains("egress allow-list", e.Message, StringComparison.Ordinal);
        Assert.Empty(_stub.Requests);
        Assert.Equal(registered, _world.Sealer.Entries.Count);
        Assert.Empty(pool.Snapshot().Loaded);
    }

    [Fact]
    public async Task The_default_allow_list_refuses_every_upstream()
    {
        await AddAsync("remote");
        await using var pool = new BrainPool(_world.Registry, _world.Guard, new BrainPoolOptions());
        var e = await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("remote"));
        Assert.True(e.EgressRefused);
        Assert.Empty(_stub.Requests);
    }

    [Fact]
    public async Task The_token_is_read_from_the_named_variable_at_load_and_sent_as_a_bearer()
    {
        var variable = "SIOS_TEST_UPSTREAM_" + Guid.NewGuid().ToString("N");
        await AddAsync("remote", keyEnv: variable);
        await using var pool = Pool(["127.0.0.1"]);
        var missing = await Assert.ThrowsAsync<BrainLoadException>(() => pool.AcquireAsync("remote"));
        Assert.Contains($"the environment variable {variable}", missing.Message, StringComparison.Ordinal);
        Assert.Empty(_world.Entries("brain.loaded"));

        Environment.SetEnvironmentVariable(variable, "token-from-env");
        try
        {
            await PoolWorld.AskAsync(pool, "remote");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        Assert.Equal("Bearer token-from-env", Assert.Single(_stub.Requests).Authorization);
        Assert.DoesNotContain(_world.Sealer.Entries, e => System.Text.Encoding.UTF8.GetString(e).Contains("token-from-env", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upstream_brains_take_no_memory_budget()
    {
        await AddAsync("a");
        await AddAsync("b");
        await using var pool = Pool(["127.0.0.1"], budget: 1, perBrain: 1_000_000);
        await using var a = await pool.AcquireAsync("a");
        await using var b = await pool.AcquireAsync("b");
        var snapshot = pool.Snapshot();
        Assert.Equal(0, snapshot.UsedBytes);
        Assert.Equal(2, snapshot.PeakLoaded);
    }

    [Fact]
    public async Task Upstream_brains_count_toward_max_loaded_and_the_idle_one_is_evicted()
    {
        await AddAsync("a", model: "model-a");
        await AddAsync("b", model: "model-b");
        await using var pool = Pool(["127.0.0.1"], maxLoaded: 1);
        await PoolWorld.AskAsync(pool, "a");
        await PoolWorld.AskAsync(pool, "b");

        var snapshot = pool.Snapshot();
        Assert.Equal(["b"], snapshot.Loaded);
        Assert.Equal(1, snapshot.Evictions);
        Assert.Equal(2, snapshot.Loads);
        Assert.Equal(["model-a", "model-b"], _stub.Requests.Select(r => r.Body.GetProperty("model").GetString()));
    }

    [Fact]
    public async Task A_leased_upstream_brain_is_not_evicted_until_returned()
    {
        await AddAsync("a");
        await AddAsync("b");
        await using var pool = Pool(["127.0.0.1"], maxLoaded: 1);
        var a = await pool.AcquireAsync("a");
        var waiting = pool.AcquireAsync("b");
        Assert.False(waiting.IsCompleted);
        Assert.Equal(["a"], pool.Snapshot().Loaded);

        await a.DisposeAsync();
        await using var b = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["b"], pool.Snapshot().Loaded);
    }

    [Fact]
    public async Task A_re_registered_upstream_is_reloaded_with_its_new_model()
    {
        await AddAsync("remote", model: "old-model");
        await using var pool = Pool(["127.0.0.1"]);
        await PoolWorld.AskAsync(pool, "remote");
        await _world.Registry.RemoveAsync("remote");
        await AddAsync("remote", model: "new-model");

        await PoolWorld.AskAsync(pool, "remote");

        Assert.Equal(["old-model", "new-model"], _stub.Requests.Select(r => r.Body.GetProperty("model").GetString()));
        Assert.Equal(["old-model", "new-model"], _world.Entries("brain.loaded").Select(e => e.GetProperty("upstream").GetProperty("model").GetString()));
    }
}
