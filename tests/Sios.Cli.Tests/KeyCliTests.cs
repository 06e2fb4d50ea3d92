using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sios.Ledger.Sqlite;
using Sios.Server.Access;

namespace Sios.Cli.Tests;

/// <summary><c>sios key create|list|revoke</c> through the real program, sealing in the folder's own log.</summary>
public sealed partial class KeyCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [GeneratedRegex(@"^sios-[0-9a-f]{12}-[A-Za-z0-9_-]{43}\n\z")]
    private static partial Regex OneSecretLine();

    private string[] D(params string[] args) => [.. args, "--data", log.Data];

    private ApiKeyStore Store => new(Path.Combine(log.Data, "keys", ApiKeyStore.FileName));

    private async Task<SiosRun> OkAsync(string[] args, string? passphrase = SiosProcess.Passphrase)
    {
        var run = await SiosProcess.RunAsync(D(args), passphrase);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', args)}: exit {run.ExitCode}: {run.Stderr}");
        return run;
    }

    private async Task<(JsonElement Entry, string Text)> LastEntryAsync()
    {
        var checkpoint = await OkAsync(["log", "checkpoint"], passphrase: null);
        var size = long.Parse(checkpoint.Out.Split('\n')[1], CultureInfo.InvariantCulture);
        var entry = await OkAsync(["log", "entry", (size - 1).ToString(CultureInfo.InvariantCulture)], passphrase: null);
        using var json = JsonDocument.Parse(entry.Stdout);
        return (json.RootElement.Clone(), entry.Out);
    }

    private static void AssertHoldsNoSecret(string text, string secret)
    {
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[18..], text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret))), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_prints_one_line_that_authenticates_and_seals_key_created_without_the_secret()
    {
        var create = await OkAsync(["key", "create", "ci-app", "--brains", "*"]);
        Assert.Matches(OneSecretLine(), create.Out);
        var secret = create.Out.TrimEnd('\n');
        Assert.Contains("shown only once", create.Stderr, StringComparison.Ordinal);
        AssertHoldsNoSecret(create.Stderr, secret);

        var principal = Store.Authenticate(secret);
        Assert.NotNull(principal);
        Assert.Equal(("ci-app", ApiKeyRole.User), (principal.Name, principal.Role));
        Assert.Equal(["*"], principal.Brains);

        var (entry, text) = await LastEntryAsync();
        Assert.Equal("key.created", entry.GetProperty("type").GetString());
        Assert.Equal("operator", entry.GetProperty("actor").GetString());
        Assert.Equal(principal.KeyId, entry.GetProperty("key_id").GetString());
        Assert.Equal("ci-app", entry.GetProperty("name").GetString());
        Assert.Equal("user", entry.GetProperty("role").GetString());
        Assert.Equal(["*"], entry.GetProperty("brains").EnumerateArray().Select(b => b.GetString()));
        AssertHoldsNoSecret(text, secret);
        var file = File.ReadAllText(Store.Location);
        Assert.DoesNotContain(secret[18..], file, StringComparison.Ordinal);
        Assert.Contains(Store.Find("ci-app")!.SecretSha256, file, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_shows_scope_and_revoke_seals_key_revoked_and_stops_the_key()
    {
        var secret = (await OkAsync(["key", "create", "ci-audit", "--brains", "*", "--role", "auditor", "--rpm", "5", "--tpm", "900"])).Out.TrimEnd('\n');
        var key = Store.Find("ci-audit")!;

        var list = await OkAsync(["key", "list"], passphrase: null);
        Assert.Contains($"ci-audit\t{key.Id}\tauditor\t*\t", list.Out, StringComparison.Ordinal);
        var line = list.Out.Split('\n').Single(l => l.StartsWith("ci-audit\t", StringComparison.Ordinal));
        Assert.EndsWith("\t-", line, StringComparison.Ordinal);
        AssertHoldsNoSecret(list.Out, secret);
        Assert.DoesNotContain(key.SecretSha256, list.Out, StringComparison.Ordinal);

        var json = await OkAsync(["key", "list", "--json"], passphrase: null);
        Assert.DoesNotContain(key.SecretSha256, json.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", json.Out, StringComparison.OrdinalIgnoreCase);
        using (var listed = JsonDocument.Parse(json.Stdout))
        {
            var audit = listed.RootElement.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "ci-audit");
            Assert.Equal(key.Id, audit.GetProperty("id").GetString());
            Assert.Equal("auditor", audit.GetProperty("role").GetString());
            Assert.Equal(5, audit.GetProperty("rpm").GetInt32());
            Assert.Equal(900, audit.GetProperty("tpm").GetInt32());
            Assert.Equal(JsonValueKind.Null, audit.GetProperty("revoked").ValueKind);
        }

        var (created, _) = await LastEntryAsync();
        Assert.Equal(5, created.GetProperty("rpm").GetInt32());

        var revoke = await OkAsync(["key", "revoke", "ci-audit"]);
        Assert.Equal(key.Id + "\n", revoke.Out);
        var (revoked, text) = await LastEntryAsync();
        Assert.Equal("key.revoked", revoked.GetProperty("type").GetString());
        Assert.Equal("operator", revoked.GetProperty("actor").GetString());
        Assert.Equal(key.Id, revoked.GetProperty("key_id").GetString());
        AssertHoldsNoSecret(text, secret);
        Assert.Null(Store.Authenticate(secret));

        var after = (await OkAsync(["key", "list"], passphrase: null)).Out.Split('\n').Single(l => l.StartsWith("ci-audit\t", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"\t-\z", after);

        var again = await SiosProcess.RunAsync(D("key", "revoke", "ci-audit"));
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("no live API key is named 'ci-audit'", again.Stderr, StringComparison.Ordinal);

        var renewed = (await OkAsync(["key", "create", "ci-audit", "--brains", "*"])).Out.TrimEnd('\n');
        Assert.NotNull(Store.Authenticate(renewed));
    }

    [Fact]
    public async Task Scopes_must_name_registered_brains()
    {
        var model = Path.Combine(log.Root, "key-scope.gguf");
        GgufFiles.Model(model, 2_000);
        await OkAsync(["brain", "add", "key-medic", "--model", model]);

        var unknown = await SiosProcess.RunAsync(D("key", "create", "ci-scoped", "--brains", "key-medic,nope"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no brain named 'nope' is registered", unknown.Stderr, StringComparison.Ordinal);
        Assert.Empty(unknown.Stdout);
        Assert.Null(Store.Find("ci-scoped"));

        var secret = (await OkAsync(["key", "create", "ci-scoped", "--brains", "key-medic"])).Out.TrimEnd('\n');
        var principal = Store.Authenticate(secret)!;
        Assert.True(principal.MayUse("key-medic"));
        Assert.False(principal.MayUse("nope"));
    }

    [Theory]
    [InlineData("key create")]
    [InlineData("key create ci-x")]
    [InlineData("key create Bad_Name --brains *")]
    [InlineData("key create ci-x --brains *,key-medic")]
    [InlineData("key create ci-x --brains ,")]
    [InlineData("key create ci-x --brains * --role root")]
    [InlineData("key create ci-x --brains * --rpm 0")]
    [InlineData("key create ci-x --brains * --tpm many")]
    [InlineData("key list --bogus")]
    [InlineData("key revoke")]
    [InlineData("key revoke ci-never-made")]
    public async Task Usage_errors_exit_2(string commandLine)
    {
        var run = await SiosProcess.RunAsync(D(commandLine.Split(' ')));
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Empty(run.Stdout);
        Assert.StartsWith("sios: ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_and_revoke_need_the_passphrase_and_change_nothing_without_it()
    {
        var run = await SiosProcess.RunAsync(D("key", "create", "ci-nopass", "--brains", "*"), passphrase: null);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("SIOS_KEY_PASSPHRASE", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
        Assert.Null(Store.Find("ci-nopass"));

        var wrong = await SiosProcess.RunAsync(D("key", "create", "ci-nopass", "--brains", "*"), passphrase: "not the passphrase");
        Assert.Equal(3, wrong.ExitCode);
        Assert.Null(Store.Find("ci-nopass"));

        await OkAsync(["key", "create", "ci-keep", "--brains", "*"]);
        Assert.Equal(3, (await SiosProcess.RunAsync(D("key", "revoke", "ci-keep"), passphrase: null)).ExitCode);
        Assert.NotNull(Store.Find("ci-keep"));
    }

    [Theory]
    [InlineData("key")]
    [InlineData("key create")]
    [InlineData("key list")]
    [InlineData("key revoke")]
    [InlineData("key vkeys")]
    public async Task Every_key_command_has_help(string commandLine)
    {
        var run = await SiosProcess.RunAsync([.. commandLine.Split(' '), "--help"], passphrase: null);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
        Assert.Contains("--data", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_made_the_master_key_private()
    {
        var file = Path.Combine(log.Data, "keys", "master.key");
        Assert.Contains("\"format\": \"sios-master-secret/v1\"", File.ReadAllText(file), StringComparison.Ordinal);
        using var secret = Sios.Signing.MasterSecret.Import(File.ReadAllText(file), SiosProcess.Passphrase);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }
}

/// <summary>While another process holds the log, key changes go to its control socket, or name the holder.</summary>
public sealed class KeyControlCliTests : IAsyncLifetime
{
    private readonly InitialisedLog _log = new();
    private readonly List<string> _requests = [];

    private string Socket => Path.Combine(_log.Data, "run", "control.sock");

    public Task InitializeAsync() => _log.InitializeAsync();

    public Task DisposeAsync() => _log.DisposeAsync();

    private string[] D(params string[] args) => [.. args, "--data", _log.Data];

    /// <summary>A stand-in for the server's control endpoints, answering with <paramref name="status"/>.</summary>
    private async Task<WebApplication> FakeServerAsync(int status)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Socket)!);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(Socket));
        var app = builder.Build();
        app.MapPost("/control/keys", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            _requests.Add(await reader.ReadToEndAsync());
            return Answer(status, """{"id":"00112233aabb","name":"via-server","secret":"sios-00112233aabb-from-the-server"}""");
        });
        app.MapPost("/control/keys/{name}/revoke", (string name) =>
        {
            _requests.Add("revoke " + name);
            return Answer(status, $$"""{"id":"00112233aabb","name":"{{name}}"}""");
        });
        await app.StartAsync();
        return app;
    }

    private static IResult Answer(int status, string ok) => status == 200
        ? Results.Text(ok, "application/json")
        : Results.Text($$$"""{"error":{"message":"refused by the server with {{{status}}}"}}""", "application/json", statusCode: status);

    private async Task<SqliteLogStore> HoldLogAsync()
    {
        var store = SqliteLogStore.Open(Path.Combine(_log.Data, "log", "log.db"));
        await store.AcquireWriterAsync();
        return store;
    }

    [Fact]
    public async Task Without_a_control_socket_the_holder_is_named_with_exit_4()
    {
        await using var held = await HoldLogAsync();
        var run = await SiosProcess.RunAsync(D("key", "create", "ci-blocked", "--brains", "*"));
        Assert.Equal(4, run.ExitCode);
        Assert.Contains($"in use by PID {Environment.ProcessId}", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);

        // A socket nobody listens on (as one left behind by a dead server) refuses connections: same answer.
        Directory.CreateDirectory(Path.GetDirectoryName(Socket)!);
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(Socket));
        Assert.True(File.Exists(Socket));
        var refused = await SiosProcess.RunAsync(D("key", "create", "ci-blocked", "--brains", "*"));
        Assert.Equal(4, refused.ExitCode);
        Assert.Contains($"in use by PID {Environment.ProcessId}", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_control_socket_create_and_revoke_are_asked_of_the_server()
    {
        await using var held = await HoldLogAsync();
        await using var server = await FakeServerAsync(200);

        var create = await SiosProcess.RunAsync(D("key", "create", "via-server", "--brains", "*", "--role", "admin", "--tpm", "70"));
        Assert.True(create.ExitCode == 0, create.Stderr);
        Assert.Equal("sios-00112233aabb-from-the-server\n", create.Out);
        using (var body = JsonDocument.Parse(_requests[0]))
        {
            var root = body.RootElement;
            Assert.Equal("via-server", root.GetProperty("name").GetString());
            Assert.Equal("admin", root.GetProperty("role").GetString());
            Assert.Equal(["*"], root.GetProperty("brains").EnumerateArray().Select(b => b.GetString()));
            Assert.Equal(JsonValueKind.Null, root.GetProperty("rpm").ValueKind);
            Assert.Equal(70, root.GetProperty("tpm").GetInt32());
        }

        // Revoke checks the name locally first, so give the file a live key of that name.
        var store = new ApiKeyStore(Path.Combine(_log.Data, "keys", ApiKeyStore.FileName));
        store.Add(store.Prepare("via-server", ApiKeyRole.User, ["*"]));
        var revoke = await SiosProcess.RunAsync(D("key", "revoke", "via-server"));
        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        Assert.Equal("00112233aabb\n", revoke.Out);
        Assert.Equal("revoke via-server", _requests[1]);
    }

    [Theory]
    [InlineData(409, 2)]
    [InlineData(400, 2)]
    [InlineData(500, 3)]
    [InlineData(503, 3)]
    public async Task Server_refusals_are_printed_with_their_exit_code(int status, int exit)
    {
        await using var held = await HoldLogAsync();
        await using var server = await FakeServerAsync(status);
        var run = await SiosProcess.RunAsync(D("key", "create", "via-server", "--brains", "*"));
        Assert.Equal(exit, run.ExitCode);
        Assert.Contains($"refused by the server with {status}", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }
}
