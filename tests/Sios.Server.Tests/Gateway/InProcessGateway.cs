using Microsoft.Extensions.Logging;
using Sios.Brains.Pool;
using Sios.Brains.Registry;
using Sios.Brains.Synth;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Tests.Storage;
using Sios.Server.Access;
using Sios.Server.Hosting;
using Sios.Signing;
using Sios.Verify.Crypto;

namespace Sios.Server.Tests.Gateway;

/// <summary>
/// A real gateway on 127.0.0.1 over a fault-injecting in-memory store, with one generated brain and one admin key:
/// for what a process-level test cannot arrange, such as the disk failing under a running server.
/// </summary>
internal sealed class InProcessGateway : IAsyncDisposable
{
    private readonly string _folder;

    private InProcessGateway(string folder, MemoryLogStore store, TransparencyLog log, BrainPool pool, SiosServer server, string key)
    {
        _folder = folder;
        Store = store;
        Log = log;
        Pool = pool;
        Server = server;
        Key = key;
    }

    public MemoryLogStore Store { get; }

    public TransparencyLog Log { get; }

    public BrainPool Pool { get; }

    public SiosServer Server { get; }

    public string Key { get; }

    public Uri Url => new(Server.Addresses[0]);

    /// <summary>Starts a gateway; <paramref name="configure"/> may change its services (a publication stage) before the server is made.</summary>
    public static async Task<InProcessGateway> StartAsync(TransparencyLogOptions? logOptions = null, IReadOnlyList<string>? corsOrigins = null, int refusalsSealedPerMinute = 20, Func<SiosServices, SiosServices>? configure = null)
    {
        var folder = Directory.CreateTempSubdirectory("sios-gateway-").FullName;
        var model = Path.Combine(folder, "tiny.gguf");
        TinyModelSynth.WriteModel(model, new TinyModelOptions { Seed = 5 });
        var store = MemoryLogStore.Open(folder);
        var signer = new LogSigner("gateway.test/log", MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        var log = await TransparencyLog.OpenAsync(store, signer, logOptions);
        EntrySealer sealer = (entry, ct) => log.AppendAsync(entry, ct);
        var registry = new BrainRegistry(folder, sealer);
        await registry.AddAsync(new BrainManifest { Name = "tiny", ModelPath = model, Sampling = new SamplingDefaults { MaxTokens = 4 } });
        var pool = new BrainPool(registry, new BrainLoadGuard(sealer), new BrainPoolOptions());
        var keys = new ApiKeyStore(Path.Combine(folder, ApiKeyStore.FileName));
        keys.Add(keys.Prepare("admin", ApiKeyRole.Admin, ["*"], out var secret));
        var services = new SiosServices(log, registry, pool, keys, new byte[32], TimeProvider.System);
        services = configure?.Invoke(services) ?? services;
        var server = SiosServer.Create(new SiosServerOptions { Urls = ["http://127.0.0.1:0"], Version = "test", CorsOrigins = corsOrigins ?? [], RefusalsSealedPerMinute = refusalsSealedPerMinute }, services, LogLevel.None);
        await server.StartAsync();
        return new InProcessGateway(folder, store, log, pool, server, secret);
    }

    public HttpClient Client()
    {
        var client = new HttpClient { BaseAddress = Url };
        client.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.DisposeAsync();
        }
        catch (LogFailedException)
        {
            // A test that broke the store cannot seal system.stopped; that refusal is the point.
        }

        await Pool.DisposeAsync();
        await Log.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
