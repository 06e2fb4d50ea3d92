using System.Text;
using System.Text.Json;
using Sios.Brains.Engines;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Brains.Tests.Registry;

namespace Sios.Brains.Tests.Pool;

/// <summary>A data folder with a registry whose changes, loads and refusals are collected by a recording sealer.</summary>
internal sealed class PoolWorld : IDisposable
{
    private readonly TempFolder _folder = new();

    public PoolWorld()
    {
        Registry = new BrainRegistry(_folder.Path, Sealer.Seal);
        Guard = new BrainLoadGuard(Sealer.Seal);
    }

    public RecordingSealer Sealer { get; } = new();

    public BrainRegistry Registry { get; }

    public BrainLoadGuard Guard { get; }

    public static LlamaEngineOptions Engine { get; } = new() { ContextSize = 128, Threads = 2, MaxParallel = 1, BatchSize = 64 };

    public string File(string name) => _folder.File(name);

    public string Model(string name, ulong seed)
    {
        var path = File(name);
        TinyModelSynth.WriteModel(path, new TinyModelOptions { Layers = 2, Embedding = 64, Seed = seed });
        return path;
    }

    public string Adapter(string name, string basePath, ulong seed)
    {
        var path = File(name);
        TinyModelSynth.WriteLoraAdapter(path, basePath, new LoraOptions { Seed = seed });
        return path;
    }

    public Task<BrainManifest> AddAsync(string name, string model, string? adapter = null) =>
        Registry.AddAsync(new BrainManifest { Name = name, ModelPath = model, AdapterPath = adapter });

    public BrainPool Pool(long budget = long.MaxValue, int maxLoaded = 64, TimeSpan? keepAlive = null, TimeProvider? clock = null) =>
        new(Registry, Guard, new BrainPoolOptions
        {
            MemoryBudgetBytes = budget,
            MaxLoaded = maxLoaded,
            KeepAlive = keepAlive ?? Timeout.InfiniteTimeSpan,
            Engine = Engine,
        }, clock);

    /// <summary>The entries sealed so far of <paramref name="type"/>, parsed.</summary>
    public List<JsonElement> Entries(string type)
    {
        lock (Sealer.Entries)
        {
            return [.. Sealer.Entries.Select(RecordingSealer.Parse).Where(e => e.GetProperty("type").GetString() == type)];
        }
    }

    public static ChatRequest Request { get; } = new()
    {
        Messages = [new ChatMessage("user", "Hi.")],
        MaxTokens = 4,
        Temperature = 0f,
    };

    /// <summary>Acquires <paramref name="name"/>, answers one short request and returns the lease; returns the answer.</summary>
    public static async Task<(string Text, Usage Usage)> AskAsync(BrainPool pool, string name)
    {
        await using var lease = await pool.AcquireAsync(name);
        return await AnswerAsync(lease);
    }

    public static async Task<(string Text, Usage Usage)> AnswerAsync(BrainLease lease)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var text = new StringBuilder();
        Usage? usage = null;
        await foreach (var update in lease.Engine.GenerateAsync(Request, timeout.Token))
        {
            text.Append(update.Text);
            usage = update.IsFinal ? update.Usage : usage;
        }

        Assert.NotNull(usage);
        return (text.ToString(), usage);
    }

    public void Dispose() => _folder.Dispose();
}

/// <summary>A clock that moves only when told, firing due timers as it goes.</summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(GetTimestamp());

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        lock (_timers)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    public void Advance(TimeSpan by)
    {
        Interlocked.Add(ref _ticks, by.Ticks);
        List<ManualTimer> timers;
        lock (_timers)
        {
            timers = [.. _timers];
        }

        foreach (var timer in timers)
        {
            timer.FireIfDue(GetTimestamp());
        }
    }

    private void Forget(ManualTimer timer)
    {
        lock (_timers)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        private long _due = long.MaxValue;
        private long _period;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _due = dueTime == Timeout.InfiniteTimeSpan ? long.MaxValue : clock.GetTimestamp() + dueTime.Ticks;
            _period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks;
            return true;
        }

        public void FireIfDue(long now)
        {
            if (now < _due)
            {
                return;
            }

            _due = _period > 0 ? now + _period : long.MaxValue;
            callback(state);
        }

        public void Dispose() => clock.Forget(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
