using Microsoft.Extensions.Logging;
using Sios.Brains.Pool;
using Sios.Node;
using Sios.Server.Hosting;

namespace Sios.Cli.Tests;

/// <summary><c>--cors-origin</c> through the real program: checked before anything is served, and part of the sealed config digest.</summary>
public sealed class CorsOriginCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [Theory]
    [InlineData("serve", "*", "cannot be a wildcard")]
    [InlineData("serve", "https://app.example.com/", "here 'https://app.example.com'")]
    [InlineData("serve", "app.example.com", "is not a web origin")]
    [InlineData("attest", "https://*.example.com", "cannot be a wildcard")]
    public async Task A_bad_origin_is_a_usage_error_in_one_line_and_nothing_is_served(string command, string origin, string message)
    {
        var run = await SiosProcess.RunAsync([command, "--cors-origin", "https://ok.example", "--cors-origin", origin, "--urls", "http://127.0.0.1:0", "--data", log.Data]);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Empty(run.Stdout);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"sios: '{origin}'", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_origins_are_in_the_config_digest_in_any_order_and_absent_ones_leave_it_as_it_was()
    {
        var data = DataFolder.Open(log.Data);
        string Digest(params string[] origins) => NodeHost.ConfigDigest(data, new ServeSettings(new SiosServerOptions { CorsOrigins = origins }, new BrainPoolOptions(), LogLevel.Warning));
        var none = Digest();
        var two = Digest("https://a.example", "http://127.0.0.1:5173");
        Assert.NotEqual(none, two);
        Assert.Equal(two, Digest("http://127.0.0.1:5173", "https://a.example"));
        Assert.NotEqual(two, Digest("https://a.example"));
    }

    [Fact]
    public async Task Attest_states_the_config_digest_of_a_server_with_those_origins()
    {
        string Config(SiosRun run) => Assert.Single(run.Out.Split('\n'), l => l.StartsWith("config ", StringComparison.Ordinal));
        var plain = await SiosProcess.RunAsync(["attest", "--data", log.Data]);
        var cors = await SiosProcess.RunAsync(["attest", "--cors-origin", "https://a.example", "--data", log.Data]);
        Assert.True(plain.ExitCode == 0 && cors.ExitCode == 0, plain.Stderr + cors.Stderr);
        var settings = new ServeSettings(new SiosServerOptions { CorsOrigins = ["https://a.example"] }, new BrainPoolOptions(), LogLevel.Warning);
        Assert.Equal("config " + NodeHost.ConfigDigest(DataFolder.Open(log.Data), settings), Config(cors));
        Assert.NotEqual(Config(plain), Config(cors));
    }
}
