using System.Security.Cryptography;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Publication;
using Sios.Signing;
using Sios.Tests.Tsa;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Verify.Timestamps;

namespace Sios.Ledger.Tests.Publication;

/// <summary>The publication stage's RFC 3161 time-stamping, against openssl acting as the TSA behind HTTP on 127.0.0.1.</summary>
public sealed class CheckpointTimestampingTests : IAsyncLifetime, IDisposable
{
    private readonly LogSigner _signer = new("test.example/tsa", MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sios-stamps-" + Guid.NewGuid().ToString("N"));
    private readonly List<string> _warnings = [];
    private OpenSslTsa? _tsa;
    private TsaHttpServer? _server;
    private PublishedCheckpoint _published = null!;

    private OpenSslTsa Tsa => _tsa!;

    private TsaHttpServer Server => _server!;

    public async Task InitializeAsync()
    {
        Publish(3);
        if (OpenSslTsa.Executable is not null)
        {
            _tsa = await OpenSslTsa.CreateAsync();
            _server = TsaHttpServer.Create(_tsa);
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _tsa?.Dispose();
        _signer.Dispose();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private void Publish(long size)
    {
        var root = SHA256.HashData(BitConverter.GetBytes(size));
        _published = new PublishedCheckpoint(size, root, _signer.Sign(size, root));
    }

    private CheckpointTimestamping Stage(ITimestampClient? client = null) => new(client ?? new HttpTimestampClient(Server.Url, new SocketsHttpHandler(), TimeSpan.FromSeconds(20)), new TimestampFolder(_folder), () => _published, new TimestampingOptions
    {
        Interval = TimeSpan.FromMilliseconds(200),
        Tsa = "http://tsa.test",
        Warn = w =>
        {
            lock (_warnings)
            {
                _warnings.Add(w);
            }
        },
    });

    private string Warnings()
    {
        lock (_warnings)
        {
            return string.Join("\n", _warnings);
        }
    }

    [OpenSslFact]
    public async Task The_published_checkpoint_is_stamped_once_kept_owner_only_and_the_token_verifies_under_the_CA()
    {
        Server.Start();
        await using var stage = Stage();
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Pending, null, 0, 0, null), stage.Progress);
        Assert.True(await stage.RoundAsync(), Warnings());
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Stamping, 3, 1, 0, null), stage.Progress);
        Assert.False(await stage.RoundAsync());
        Assert.Equal(1, Server.Requests);
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Stamping, 3, 1, 0, null), stage.Progress);

        var token = stage.Folder.Read(3);
        Assert.NotNull(token);
        var stamp = TimestampVerifier.FromPem(await File.ReadAllTextAsync(Tsa.CaPem)).Verify(token, SignedNote.Parse(_published.Note));
        Assert.InRange(stamp.Time, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "3.tst")));
        }

        Assert.Null(stage.Folder.Read(4));

        // A new published checkpoint gets its own token; a stage over the same folder (a restart) asks for none again.
        Publish(7);
        Assert.True(await stage.RoundAsync(), Warnings());
        Assert.Equal((TimestampState.Stamping, 7L, 2L), (stage.Progress.State, stage.Progress.StampedSize, stage.Progress.Tokens));
        await using var restarted = Stage();
        Assert.False(await restarted.RoundAsync());
        Assert.Equal(2, Server.Requests);
        // After a restart the token kept by the run before counts as stamped, not as a token of this run.
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Stamping, 7, 0, 0, null), restarted.Progress);
    }

    [OpenSslFact]
    public async Task While_the_TSA_is_down_the_newest_checkpoint_waits_and_is_stamped_once_it_is_up()
    {
        await using var stage = Stage();
        stage.Start();
        await WaitForAsync(() => Warnings().Contains("cannot reach", StringComparison.Ordinal), "no unreachable warning");
        Publish(8);
        await Task.Delay(500);
        Assert.Single(Warnings().Split('\n'));
        Assert.False(Directory.Exists(_folder) && Directory.EnumerateFiles(_folder).Any());

        Server.Start();
        await WaitForAsync(() => stage.Folder.Contains(8), "the waiting checkpoint was never stamped: " + Warnings());
        // The checkpoint at size 3, published and superseded while the TSA was down, is skipped (8 covers its entries).
        Assert.False(stage.Folder.Contains(3));
        Assert.Contains("answers again", Warnings(), StringComparison.Ordinal);
        Assert.Equal(1, Server.Requests);
    }

    [OpenSslFact]
    public async Task A_reply_for_another_hash_or_another_nonce_is_refused_and_the_checkpoint_stays_pending()
    {
        Server.Start();
        await using var stage = Stage();
        Server.RewriteQuery = q => OpenSslTsa.Rewrite(q, imprint: SHA256.HashData("something else"u8));
        Assert.False(await stage.RoundAsync());
        Assert.Contains("its reply is refused", Warnings(), StringComparison.Ordinal);
        Assert.False(stage.Folder.Contains(3));
        // Answered with 200 but refused: no HTTP status to show, and nothing stamped.
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Refused, null, 0, 1, null), stage.Progress);

        Server.RewriteQuery = q => OpenSslTsa.Rewrite(q, nonce: [1, 2, 3]);
        Assert.False(await stage.RoundAsync());
        Assert.False(stage.Folder.Contains(3));
        Assert.Equal(2, Server.Requests);
        Assert.Equal(2, Warnings().Split('\n').Length);

        Server.RewriteQuery = null;
        Assert.True(await stage.RoundAsync(), Warnings());
        Assert.True(stage.Folder.Contains(3));
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Stamping, 3, 1, 2, null), stage.Progress);
    }

    [Fact]
    public async Task The_progress_tells_an_unreachable_TSA_from_one_that_answers_an_error_and_counts_both()
    {
        var client = new ScriptedClient();
        await using var stage = Stage(client);
        Assert.Equal(TimestampState.Pending, stage.Progress.State);

        client.Next = new TimestampReply(0, [], "cannot reach http://tsa.test/: connection refused");
        Assert.False(await stage.RoundAsync());
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Unreachable, null, 0, 1, null), stage.Progress);

        client.Next = new TimestampReply(503, "busy"u8.ToArray());
        Assert.False(await stage.RoundAsync());
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Refused, null, 0, 2, 503), stage.Progress);

        // Back to unreachable: the status of an earlier answer is not shown as the last one.
        client.Next = new TimestampReply(0, [], "no answer");
        Assert.False(await stage.RoundAsync());
        Assert.Equal(new TimestampProgress("http://tsa.test", TimestampState.Unreachable, null, 0, 3, null), stage.Progress);
        Assert.Equal(3, client.Queries);
    }

    [Fact]
    public async Task A_reply_over_the_cap_is_refused_unread()
    {
        using var handler = new FixedReply(new byte[HttpTimestampClient.MaxResponseBytes + 1]);
        using var client = new HttpTimestampClient(new Uri("http://tsa.invalid/"), handler, TimeSpan.FromSeconds(5));
        var reply = await client.RequestAsync([1], CancellationToken.None);
        Assert.Equal(0, reply.Status);
        Assert.Contains("more than", reply.Error, StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<bool> condition, string failure)
    {
        using var watchdog = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            Assert.False(watchdog.IsCancellationRequested, failure);
            await Task.Delay(50);
        }
    }

    private sealed class ScriptedClient : ITimestampClient
    {
        public TimestampReply Next { get; set; } = new(0, [], "no answer");

        public int Queries { get; private set; }

        public Task<TimestampReply> RequestAsync(byte[] query, CancellationToken cancellationToken)
        {
            Queries++;
            return Task.FromResult(Next);
        }
    }

    private sealed class FixedReply(byte[] body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(body) });
    }
}
