using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Sios.Verify.Receipts;

namespace Sios.EndToEnd;

/// <summary>
/// Clients that keep asking a set of nodes while the test breaks things under them. An answer is acknowledged only with
/// its log index; anything else must be a 503 (no seal, no answer), or a connection lost to a node the test has taken out
/// of the set before killing it.
/// </summary>
internal sealed class SharedLoad : IDisposable
{
    private readonly List<Task> _workers;
    private readonly CancellationTokenSource _stop = new();
    private volatile HttpClient[] _targets;
    private int _ok;
    private int _refused;

    /// <summary>Starts <paramref name="workers"/> clients spreading their requests over <paramref name="targets"/>.</summary>
    public SharedLoad(IReadOnlyList<HttpClient> targets, int workers, CancellationToken ct)
    {
        _targets = [.. targets];
        _workers = [.. Enumerable.Range(0, workers).Select(t => Task.Run(() => WorkAsync(t, ct), ct))];
    }

    /// <summary>Every acknowledged index (answer or sealed refusal), with what it was.</summary>
    public ConcurrentDictionary<long, string> Answered { get; } = new();

    /// <summary>Answers given so far.</summary>
    public int Ok => Volatile.Read(ref _ok);

    /// <summary>Answers that were neither an answer nor a 503: each one fails the test when the load stops.</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    /// <summary>Requests refused with 503 so far.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>The nodes asked from now on (take a node out before killing it).</summary>
    public IReadOnlyList<HttpClient> Targets
    {
        set => _targets = [.. value];
    }

    /// <summary>Waits until <paramref name="more"/> further answers were given, failing with <paramref name="why"/> after <paramref name="limit"/>.</summary>
    public async Task WaitForAnswersAsync(int more, TimeSpan limit, Func<string> why, CancellationToken ct)
    {
        var target = Ok + more;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Ok < target)
        {
            Assert.True(waited.Elapsed < limit, $"{why()}; unexpected answers: {string.Join(" | ", Unexpected)}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Stops the clients and rethrows what any of them saw that it must not have.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(ct);
        Assert.True(Unexpected.IsEmpty, string.Join(" | ", Unexpected));
    }

    /// <inheritdoc />
    public void Dispose() => _stop.Dispose();

    private async Task WorkAsync(int worker, CancellationToken ct)
    {
        for (var i = worker; !_stop.IsCancellationRequested; i++)
        {
            var targets = _targets;
            var client = targets[i % targets.Length];
            HttpResponseMessage answer;
            try
            {
                answer = await client.PostAsync("/v1/chat/completions", SharedStoreClients.Question(), ct);
            }
            catch (HttpRequestException) when (!_targets.Contains(client))
            {
                continue;
            }

            using (answer)
            {
                if (answer.StatusCode == HttpStatusCode.OK)
                {
                    Answered[Index(answer)] = "answer";
                    Interlocked.Increment(ref _ok);
                    continue;
                }

                // Refused, never answered unsealed: the refusal is itself sealed when the store takes it (then it
                // carries its receipt, checked like any answer's), or it carries none.
                if (answer.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    Unexpected.Enqueue($"{(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync(ct)}");
                    continue;
                }

                if (answer.Headers.Contains("Sios-Log-Index"))
                {
                    Answered[Index(answer)] = "refusal";
                }

                Interlocked.Increment(ref _refused);
            }
        }
    }

    private static long Index(HttpResponseMessage answer) =>
        long.Parse(Receipts.Header(answer.Headers, "Sios-Log-Index"), CultureInfo.InvariantCulture);
}
