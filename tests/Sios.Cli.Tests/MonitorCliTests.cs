namespace Sios.Cli.Tests;

/// <summary>`sios log monitor` refusals that need no server: usage errors and a state file it must not trust or replace.</summary>
public sealed class MonitorCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    private string[] Monitor(string url, params string[] more) =>
        ["log", "monitor", url, .. log.Vkeys.SelectMany(v => new[] { "--vkey", v }), .. more];

    [Theory]
    [InlineData("ftp://log.example/log/")]
    [InlineData("http://log.example/log/?x=1")]
    [InlineData("not a url")]
    public async Task A_url_that_is_not_an_http_prefix_is_a_usage_error(string url)
    {
        var run = await SiosProcess.RunAsync(Monitor(url, "--once"), passphrase: null);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("URL:", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_interval_below_one_second_is_a_usage_error()
    {
        var run = await SiosProcess.RunAsync(Monitor("http://127.0.0.1:9/log/", "--interval", "0"), passphrase: null);
        Assert.Equal(2, run.ExitCode);
    }

    [Fact]
    public async Task A_state_file_that_does_not_verify_is_refused_and_left_as_it_is()
    {
        var other = Path.Combine(log.Root, "other");
        Assert.Equal(0, (await SiosProcess.RunAsync(["init", "--origin", InitialisedLog.Origin, "--data", other])).ExitCode);
        var foreign = await SiosProcess.RunAsync(["log", "checkpoint", "--data", other]);
        var state = Path.Combine(log.Root, "foreign.state");
        await File.WriteAllBytesAsync(state, foreign.Stdout);

        // Same origin, other keys: the server is never asked (port 9 would refuse), the state is refused first.
        var run = await SiosProcess.RunAsync(Monitor("http://127.0.0.1:9/log/", "--once", "--state", state), passphrase: null);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("does not verify under the given vkeys", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(foreign.Stdout, await File.ReadAllBytesAsync(state));
    }

    [Fact]
    public async Task An_unreachable_log_with_once_exits_3()
    {
        var run = await SiosProcess.RunAsync(Monitor("http://127.0.0.1:9/log/", "--once"), passphrase: null);
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("GET http://127.0.0.1:9/log/checkpoint", run.Stderr, StringComparison.Ordinal);
    }
}
