using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Sios.Ledger.Postgres;
using Sios.Tests.Postgres;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>
/// Two real <c>sios serve</c> nodes on one log in PostgreSQL, from outside the processes: the demo folder made with
/// <c>--store</c> and copied for the second node, clients spread over both, every answer's receipt fetched from the
/// other node and verified offline, one node killed with SIGKILL under load while the other goes on answering, and the
/// whole record audited clean afterwards.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class SharedStoreTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly string _schema = PostgresFixture.NewSchema();
    private readonly ServedDemo _a = new();
    private readonly ServedDemo _b = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        if (postgres.Unavailable is null)
        {
            await postgres.DropSchemaAsync(_schema);
        }
    }

    [SkippableFact]
    public async Task Two_nodes_serve_one_record_and_it_survives_one_of_them_being_killed()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await StartTwoNodesAsync();

        var answered = new ConcurrentDictionary<long, string>();
        using var clientA = _a.Client();
        using var clientB = _b.Client();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 3; i++)
            {
                var (name, client) = (t + i) % 2 == 0 ? ("a", clientA) : ("b", clientB);
                answered[await SharedStoreClients.AskAsync(client, watchdog.Token)] = name;
            }
        })));
        Assert.Equal(24, answered.Count);

        // One record: each answer's receipt comes from the node that did not answer it, and verifies offline.
        foreach (var (index, node) in answered)
        {
            var receipt = await SharedStoreClients.ReceiptAsync(node == "a" ? clientB : clientA, index, watchdog.Token);
            var verified = new ReceiptVerifier(_a.Vkeys).Verify(receipt);
            Assert.Equal(index, verified.Index);
            Assert.Equal("inference", JsonDocument.Parse(verified.Entry).RootElement.GetProperty("type").GetString());
        }

        // The vault is shared too: a response stored through node A is read back through node B, and an answer node A
        // gave is disclosed from node B's folder.
        using (var stored = await clientA.PostAsync("/v1/responses", new StringContent("""{"model":"demo","input":"kept on A","max_output_tokens":2}""", Encoding.UTF8, "application/json"), watchdog.Token))
        {
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            var id = JsonDocument.Parse(await stored.Content.ReadAsStringAsync(watchdog.Token)).RootElement.GetProperty("id").GetString();
            using var readBack = await clientB.GetAsync($"/v1/responses/{id}", watchdog.Token);
            Assert.Equal(HttpStatusCode.OK, readBack.StatusCode);
        }

        var answeredOnA = answered.First(a => a.Value == "a").Key;
        var disclosed = await SiosCli.RunAsync("log", "disclose", answeredOnA.ToString(CultureInfo.InvariantCulture), "--out", Path.Combine(_b.Root, "disclosed"), "--data", _b.Data);
        Assert.True(disclosed.ExitCode == 0, disclosed.Err);
        Assert.Contains("which node?", await File.ReadAllTextAsync(Path.Combine(_b.Root, "disclosed", Sios.Verify.Disclosure.DisclosedContent.RequestFile), watchdog.Token), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_a.Data, "vault")) && Directory.EnumerateFiles(Path.Combine(_a.Data, "vault"), "*.vault").Any(), "node A kept its answers in its folder, not the store");

        // Node A dies mid-load; node B goes on sealing and answering.
        var load = Task.Run(async () =>
        {
            for (var i = 0; i < 6; i++)
            {
                answered[await SharedStoreClients.AskAsync(clientB, watchdog.Token)] = "b";
            }
        });
        await _a.KillAsync();
        await load.WaitAsync(watchdog.Token);
        Assert.Equal(0, await _b.StopAsync());

        var audit = await SiosCli.RunAsync("log", "verify", "--data", _b.Data);
        Assert.True(audit.ExitCode == 0, audit.Err + audit.Out);
        Assert.True(JsonDocument.Parse(audit.Out).RootElement.GetProperty("intact").GetBoolean(), audit.Out);
        await using var store = PostgresLogStore.Open(postgres.ConnectionString, _schema);
        foreach (var index in answered.Keys)
        {
            var entry = (await store.ReadEntriesAsync(index, 1))[0];
            Assert.Equal("inference", JsonDocument.Parse(entry).RootElement.GetProperty("type").GetString());
        }

        // Both nodes said who they were when they started, each under its own name.
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0, size = await store.GetStoredSizeAsync(); i < size; i += 256)
        {
            foreach (var e in await store.ReadEntriesAsync(i, 256))
            {
                var root = JsonDocument.Parse(e).RootElement;
                if (root.GetProperty("type").GetString() == "system.started")
                {
                    nodes.Add(root.GetProperty("node").GetString()!);
                }
            }
        }

        Assert.Equal(2, nodes.Count);
    }

    [SkippableFact]
    public async Task The_nodes_refuse_while_the_database_restarts_and_resume_by_themselves_losing_nothing_acknowledged()
    {
        Skip.If(postgres.Unavailable is not null, postgres.Unavailable);
        Skip.If(postgres.Cluster is null, "restarts the server, so it needs the throwaway cluster (SIOS_TEST_POSTGRES names a given server)");
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await StartTwoNodesAsync();
        using var clientA = _a.Client();
        using var clientB = _b.Client();

        // Clients keep asking both nodes while the database crashes and comes back; every answer given was sealed.
        using var load = new SharedLoad([clientA, clientB], 4, watchdog.Token);
        await load.WaitForAnswersAsync(8, TimeSpan.FromSeconds(60), () => "no answers before the crash", watchdog.Token);

        await postgres.Cluster.StopAsync("immediate");
        using (var health = await clientB.GetAsync("/healthz", watchdog.Token))
        {
            // Within a follow interval the node sees its store gone and says so.
            for (var i = 0; i < 100 && health.StatusCode == HttpStatusCode.OK; i++)
            {
                await Task.Delay(100, watchdog.Token);
                using var again = await clientB.GetAsync("/healthz", watchdog.Token);
                if (again.StatusCode != HttpStatusCode.OK)
                {
                    Assert.Contains("\"reachable\":false", await again.Content.ReadAsStringAsync(watchdog.Token), StringComparison.Ordinal);
                    break;
                }
            }
        }

        await Task.Delay(1000, watchdog.Token);
        await postgres.Cluster.StartAgainAsync();
        await load.WaitForAnswersAsync(8, TimeSpan.FromSeconds(90), () => $"the nodes did not resume: A said {_a.Stderr}; B said {_b.Stderr}", watchdog.Token);
        await load.StopAsync(watchdog.Token);
        Assert.True(load.Refused > 0, "no answer was refused while the database was down");
        using (var healthy = await clientA.GetAsync("/healthz", watchdog.Token))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        }

        foreach (var (index, _) in load.Answered)
        {
            new ReceiptVerifier(_a.Vkeys).Verify(await SharedStoreClients.ReceiptAsync(clientA, index, watchdog.Token));
        }

        Assert.Equal(0, await _a.StopAsync());
        Assert.Equal(0, await _b.StopAsync());
        var audit = await SiosCli.RunAsync("log", "verify", "--data", _a.Data);
        Assert.True(audit.ExitCode == 0, audit.Err + audit.Out);
    }

    /// <summary>Node A from <c>sios demo --store</c>; node B from a copy of A's folder, as the operator makes it; both serving.</summary>
    private async Task StartTwoNodesAsync()
    {
        var settings = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
        _a.DemoArgs = ["--store", $"postgres://{settings.Username}@{settings.Host}:{settings.Port}/{settings.Database}?schema={_schema}"];
        _a.BeforeServe = async a =>
        {
            // The encrypted keys, brains and API keys go along with the folder; no key material goes into the database.
            _b.CopyOf = a.Data;
            await _b.InitializeAsync();
        };
        await _a.InitializeAsync();
    }
}
