using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Sios.Cli.Tests;

/// <summary><c>sios brain ...</c> with an upstream brain, through the real program, against a stub endpoint on 127.0.0.1.</summary>
public sealed class BrainUpstreamCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>, IDisposable
{
    private readonly ChatStub _stub = ChatStub.Start();

    public void Dispose() => _stub.Dispose();

    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private static async Task<SiosRun> OkAsync(string[] args, string? passphrase = SiosProcess.Passphrase)
    {
        var run = await SiosProcess.RunAsync(args, passphrase);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private async Task<JsonElement> LastEntryAsync()
    {
        var checkpoint = await SiosProcess.RunAsync(D("log", "checkpoint"), passphrase: null);
        var size = long.Parse(checkpoint.Out.Split('\n')[1], CultureInfo.InvariantCulture);
        var entry = await SiosProcess.RunAsync(D("log", "entry", (size - 1).ToString(CultureInfo.InvariantCulture)), passphrase: null);
        Assert.True(entry.ExitCode == 0, entry.Stderr);
        using var json = JsonDocument.Parse(entry.Stdout);
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task Add_list_verify_remove_an_upstream_brain_and_each_change_is_sealed()
    {
        var url = _stub.Root;
        var add = await OkAsync(D("brain", "add", "cli-remote", "--upstream", url.TrimEnd('/'), "--upstream-model", "llama3.1:70b",
            "--upstream-key-env", "CLI_REMOTE_TOKEN", "--description", "the big model", "--system-prompt", "Be brief.", "--max-tokens", "64"));
        Assert.Equal($"cli-remote {url} llama3.1:70b\n", add.Out);
        var registered = await LastEntryAsync();
        Assert.Equal("brain.registered", registered.GetProperty("type").GetString());
        Assert.Equal("cli-remote", registered.GetProperty("brain").GetString());
        Assert.Equal(url, registered.GetProperty("upstream").GetProperty("url").GetString());
        Assert.Equal("llama3.1:70b", registered.GetProperty("upstream").GetProperty("model").GetString());
        Assert.False(registered.TryGetProperty("weights", out _));

        var list = await OkAsync(D("brain", "list"), passphrase: null);
        Assert.Contains($"cli-remote\t{url} llama3.1:70b\t-\tthe big model\n", list.Out, StringComparison.Ordinal);
        var json = await OkAsync(D("brain", "list", "--json"), passphrase: null);
        using (var brains = JsonDocument.Parse(json.Stdout))
        {
            var remote = brains.RootElement.EnumerateArray().Single(b => b.GetProperty("name").GetString() == "cli-remote");
            Assert.Equal(url, remote.GetProperty("upstream").GetProperty("url").GetString());
            Assert.Equal("CLI_REMOTE_TOKEN", remote.GetProperty("upstream").GetProperty("api_key_env").GetString());
            Assert.False(remote.TryGetProperty("model_path", out _));
        }

        var verify = await OkAsync(D("brain", "verify", "cli-remote"), passphrase: null);
        Assert.Equal("cli-remote\tupstream\n", verify.Out);
        Assert.Contains($"brain 'cli-remote' is answered by the upstream {url} (model llama3.1:70b); it has no local weights to verify", verify.Stderr, StringComparison.Ordinal);
        Assert.Empty(_stub.Requests);

        var remove = await OkAsync(D("brain", "remove", "cli-remote"));
        Assert.Equal("cli-remote\n", remove.Out);
        var removed = await LastEntryAsync();
        Assert.Equal("brain.removed", removed.GetProperty("type").GetString());
        Assert.Equal(url, removed.GetProperty("upstream").GetProperty("url").GetString());
    }

    [Fact]
    public async Task Verify_of_all_brains_passes_with_an_upstream_beside_a_matching_local_one()
    {
        var model = Path.Combine(log.Root, "cli-upstream-local.gguf");
        await OkAsync(D("brain", "synth", "--out", model));
        await OkAsync(D("brain", "add", "cli-up-local", "--model", model));
        await OkAsync(D("brain", "add", "cli-up-remote", "--upstream", _stub.Root, "--upstream-model", "m"));

        var verify = await SiosProcess.RunAsync(D("brain", "verify"), passphrase: null);

        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("cli-up-local\tok\n", verify.Out, StringComparison.Ordinal);
        Assert.Contains("cli-up-remote\tupstream\n", verify.Out, StringComparison.Ordinal);
        Assert.Contains("no local weights to verify", verify.Stderr, StringComparison.Ordinal);
        await OkAsync(D("brain", "remove", "cli-up-local"));
        await OkAsync(D("brain", "remove", "cli-up-remote"));
    }

    [Fact]
    public async Task Run_asks_an_allowed_upstream_with_the_token_from_the_named_variable()
    {
        await OkAsync(D("brain", "add", "cli-run-remote", "--upstream", _stub.Root, "--upstream-model", "stub-model", "--upstream-key-env", "CLI_RUN_TOKEN"));

        var run = await SiosProcess.RunAsync(D("brain", "run", "cli-run-remote", "--prompt", "Hello?", "--egress", "127.0.0.1"), SiosProcess.Passphrase, null, ("CLI_RUN_TOKEN", "secret-from-env"));

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("Hello from upstream\n", run.Out);
        Assert.Contains("finish_reason: stop; prompt_tokens: 5; completion_tokens: 3", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("Bearer secret-from-env", Assert.Single(_stub.Requests));
        var loaded = await LastEntryAsync();
        Assert.Equal("brain.loaded", loaded.GetProperty("type").GetString());
        Assert.Equal(_stub.Root, loaded.GetProperty("upstream").GetProperty("url").GetString());
        Assert.Equal("stub-model", loaded.GetProperty("upstream").GetProperty("model").GetString());
        Assert.DoesNotContain("secret-from-env", loaded.GetRawText(), StringComparison.Ordinal);
        await OkAsync(D("brain", "remove", "cli-run-remote"));
    }

    [Fact]
    public async Task Run_refuses_an_upstream_outside_the_allow_list_and_sends_nothing()
    {
        await OkAsync(D("brain", "add", "cli-run-refused", "--upstream", _stub.Root, "--upstream-model", "stub-model"));
        var before = (await LastEntryAsync()).GetProperty("id").GetString();

        var run = await SiosProcess.RunAsync(D("brain", "run", "cli-run-refused", "--prompt", "Hello?", "--egress", "10.0.0.7"));

        Assert.True(run.ExitCode == 3, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Empty(run.Stdout);
        Assert.Contains("is refused: no address is in the egress allow-list", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--egress HOST", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(_stub.Requests);
        Assert.Equal(before, (await LastEntryAsync()).GetProperty("id").GetString());
        await OkAsync(D("brain", "remove", "cli-run-refused"));
    }

    /// <summary>An OpenAI-compatible chat endpoint on 127.0.0.1 that streams one fixed answer and records each request's Authorization.</summary>
    private sealed class ChatStub : IDisposable
    {
        private static readonly string[] Events =
        [
            """{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello "}}]}""",
            """{"choices":[{"index":0,"delta":{"content":"from upstream"}}]}""",
            """{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""",
            """{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}""",
            "[DONE]",
        ];

        private readonly HttpListener _listener;
        private readonly Task _loop;

        private ChatStub(HttpListener listener, string root)
        {
            _listener = listener;
            Root = root;
            _loop = Task.Run(LoopAsync);
        }

        /// <summary>The endpoint's root URL, in canonical form (with the trailing slash).</summary>
        public string Root { get; }

        public ConcurrentQueue<string?> Requests { get; } = new();

        public static ChatStub Start()
        {
            for (var attempt = 0; ; attempt++)
            {
                var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                var port = ((IPEndPoint)probe.LocalEndpoint).Port;
                probe.Stop();
                var root = $"http://127.0.0.1:{port}/";
                var listener = new HttpListener();
                listener.Prefixes.Add(root);
                try
                {
                    listener.Start();
                    return new ChatStub(listener, root);
                }
                catch (HttpListenerException) when (attempt < 10)
                {
                    listener.Close();
                }
            }
        }

        public void Dispose()
        {
            _listener.Close();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
                // The accept loop ends with the listener's disposal exception.
            }
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                Requests.Enqueue(context.Request.Headers["Authorization"]);
                try
                {
                    context.Response.ContentType = "text/event-stream";
                    var body = Encoding.UTF8.GetBytes(string.Concat(Events.Select(e => $"data: {e}\n\n")));
                    context.Response.ContentLength64 = body.Length;
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or IOException)
                {
                    // The client went away; the test sees that in the command's own output.
                }
            }
        }
    }
}
