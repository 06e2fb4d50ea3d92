using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sios.Ledger.Postgres;
using Sios.Tests.Postgres;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>
/// Three real <c>sios serve</c> nodes on one log kept by a PostgreSQL primary with a synchronous standby, both started
/// here, from outside every process: clients spread over the nodes; a key made on one node works on another and,
/// revoked on a third, is refused on all at once; a key's rate budget spans the nodes; one node killed with SIGKILL
/// under load; then the primary crashed and the standby promoted under load. The nodes refuse while there is no
/// primary, follow the promoted standby by themselves, and every acknowledged answer's receipt verifies against the one
/// log, which audits clean on the new primary.
/// </summary>
[Collection(PostgresTests.Name)]
public sealed class FailoverTests : IAsyncLifetime
{
    private readonly ServedDemo _a = new();
    private readonly ServedDemo _b = new();
    private readonly ServedDemo _c = new();
    private PostgresCluster? _primary;
    private PostgresCluster? _standby;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _c.DisposeAsync();
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        if (_standby is not null)
        {
            await _standby.DisposeAsync();
        }

        if (_primary is not null)
        {
            await _primary.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Three_nodes_keep_one_record_through_a_killed_node_and_a_promoted_standby_losing_nothing_acknowledged()
    {
        Skip.If(PostgresCluster.Unavailable is not null, PostgresCluster.Unavailable);
        using var watchdog = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        _primary = await PostgresCluster.StartAsync();
        _standby = await _primary.StartSynchronousStandbyAsync();
        var url = $"postgres://sios@127.0.0.1:{_primary.Port},127.0.0.1:{_standby.Port}/postgres?schema=failover";
        _a.DemoArgs = ["--store", url];
        _a.BeforeServe = async a =>
        {
            // The operator copies the folder (its encrypted key files) to each node; keys and brains are in the database.
            foreach (var node in new[] { _b, _c })
            {
                node.CopyOf = a.Data;
                await node.InitializeAsync();
            }
        };
        await _a.InitializeAsync();
        using var clientA = _a.Client();
        using var clientB = _b.Client();
        using var clientC = _c.Client();

        using var load = new SharedLoad([clientA, clientB, clientC], 4, watchdog.Token);
        await load.WaitForAnswersAsync(12, TimeSpan.FromSeconds(60), () => "no answers from the three nodes", watchdog.Token);

        await KeysAreSharedAsync(clientB, clientC, watchdog.Token);

        // Node C dies mid-load; A and B go on.
        load.Targets = [clientA, clientB];
        await _c.KillAsync();
        await load.WaitForAnswersAsync(6, TimeSpan.FromSeconds(60), () => $"A and B stopped answering after C died: A said {_a.Stderr}; B said {_b.Stderr}", watchdog.Token);

        // The primary crashes; the operator promotes the synchronous standby. Every commit the primary acknowledged was
        // flushed on the standby first, so the nodes find all they sealed there.
        await _primary.StopAsync("immediate");
        await _standby.PromoteAsync();
        await load.WaitForAnswersAsync(8, TimeSpan.FromSeconds(120), () => $"the nodes did not follow the promoted standby: A said {_a.Stderr}; B said {_b.Stderr}", watchdog.Token);
        await load.StopAsync(watchdog.Token);
        Assert.True(load.Refused > 0, "no request was refused while there was no primary");

        foreach (var (index, _) in load.Answered)
        {
            var verified = new ReceiptVerifier(_a.Vkeys).Verify(await SharedStoreClients.ReceiptAsync(index % 2 == 0 ? clientA : clientB, index, watchdog.Token));
            Assert.Equal(index, verified.Index);
        }

        // The clients may have been served by one node alone meanwhile; each rejoins at its next batch, so both are
        // healthy once they have sealed on the new primary.
        foreach (var (node, client) in new[] { (_a, clientA), (_b, clientB) })
        {
            await HealthyAsync(node, client, watchdog.Token);
        }

        Assert.Equal(0, await _a.StopAsync());
        Assert.Equal(0, await _b.StopAsync());

        // The audit reads the whole record from the promoted standby (the URL's second host): every entry under every
        // checkpoint, each checkpoint's root the tree's at its size, so every pair of checkpoints is consistent.
        var audit = await SiosCli.RunAsync("log", "verify", "--data", _a.Data);
        Assert.True(audit.ExitCode == 0, audit.Err + audit.Out);
        Assert.True(JsonDocument.Parse(audit.Out).RootElement.GetProperty("intact").GetBoolean(), audit.Out);
        await using var store = PostgresLogStore.Open(_standby.ConnectionString, "failover");
        var checkpoints = new List<long>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(0))
        {
            checkpoints.Add(checkpoint.Size);
        }

        Assert.True(checkpoints.Count > 10, $"only {checkpoints.Count} checkpoints were stored");
        Assert.True(load.Answered.Keys.Max() < await store.GetStoredSizeAsync());
    }

    /// <summary>
    /// A key made through node A's folder works on C at once; revoked through B's, it is refused on every node at once; a
    /// key's rate budget is drawn on by every node.
    /// </summary>
    private async Task KeysAreSharedAsync(HttpClient clientB, HttpClient clientC, CancellationToken ct)
    {
        var created = await SiosCli.RunAsync("key", "create", "roaming", "--brains", "*", "--data", _a.Data);
        Assert.True(created.ExitCode == 0, created.Err);
        var secret = created.Out.Trim();
        Assert.Equal(HttpStatusCode.OK, await StatusWithKeyAsync(clientC, secret, ct));

        var revoked = await SiosCli.RunAsync("key", "revoke", "roaming", "--data", _b.Data);
        Assert.True(revoked.ExitCode == 0, revoked.Err);
        using var clientA = _a.Client();
        foreach (var client in new[] { clientA, clientB, clientC })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithKeyAsync(client, secret, ct));
        }

        // A key's budget is one budget however its requests are spread: two a minute, whichever nodes serve them.
        var metered = await SiosCli.RunAsync("key", "create", "metered", "--brains", "*", "--rpm", "2", "--data", _c.Data);
        Assert.True(metered.ExitCode == 0, metered.Err);
        Assert.Equal(HttpStatusCode.OK, await StatusWithKeyAsync(clientA, metered.Out.Trim(), ct));
        Assert.Equal(HttpStatusCode.OK, await StatusWithKeyAsync(clientB, metered.Out.Trim(), ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusWithKeyAsync(clientC, metered.Out.Trim(), ct));
    }

    private static async Task HealthyAsync(ServedDemo node, HttpClient client, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using (var health = await client.GetAsync("/healthz", ct))
            {
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(90), $"{node.Url} stayed unhealthy: {await health.Content.ReadAsStringAsync(ct)}; it said {node.Stderr}");
            }

            // A node learns the store is back at its next batch: give it one.
            using var ask = await client.PostAsync("/v1/chat/completions", SharedStoreClients.Question(), ct);
            await Task.Delay(200, ct);
        }
    }

    private static async Task<HttpStatusCode> StatusWithKeyAsync(HttpClient node, string key, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = SharedStoreClients.Question() };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var answer = await node.SendAsync(request, ct);
        return answer.StatusCode;
    }
}
