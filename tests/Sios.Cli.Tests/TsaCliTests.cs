using Microsoft.Extensions.Logging;
using Sios.Brains.Pool;
using Sios.Node;
using Sios.Server.Hosting;

namespace Sios.Cli.Tests;

/// <summary><c>serve --tsa</c>: checked before anything is served, and part of the sealed config digest.</summary>
public sealed class TsaCliTests(InitialisedLog log) : IClassFixture<InitialisedLog>
{
    [Theory]
    [InlineData("ftp://tsa.example/", "--egress tsa.example", "must be an http:// or https:// URL")]
    [InlineData("https://user:secret@tsa.example/", "--egress tsa.example", "without credentials")]
    [InlineData("https://tsa.example/", "--egress other.example", "tsa.example is not in the egress allow-list: add --egress tsa.example")]
    [InlineData("https://tsa.example/", "--tsa-interval 0", "--tsa-interval must be 1 to 86400 seconds")]
    public async Task A_bad_TSA_is_a_usage_error_and_nothing_is_served(string url, string more, string message)
    {
        var run = await SiosProcess.RunAsync(["serve", "--tsa", url, .. more.Split(' '), "--urls", "http://127.0.0.1:0", "--data", log.Data]);
        Assert.True(run.ExitCode == 2, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Empty(run.Stdout);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_TSA_and_its_interval_are_in_the_config_digest_and_no_TSA_leaves_it_as_it_was()
    {
        var data = DataFolder.Open(log.Data);
        string Digest(TimestampSettings? tsa) => NodeHost.ConfigDigest(data, new ServeSettings(new SiosServerOptions(), new BrainPoolOptions(), LogLevel.Warning) { Timestamping = tsa });
        var none = Digest(null);
        var a = Digest(new TimestampSettings(new Uri("https://a.example/tsa"), TimeSpan.FromSeconds(60)));
        Assert.Equal(NodeHost.ConfigDigest(data, new ServeSettings(new SiosServerOptions(), new BrainPoolOptions(), LogLevel.Warning)), none);
        Assert.NotEqual(none, a);
        Assert.NotEqual(a, Digest(new TimestampSettings(new Uri("https://b.example/tsa"), TimeSpan.FromSeconds(60))));
        Assert.NotEqual(a, Digest(new TimestampSettings(new Uri("https://a.example/tsa"), TimeSpan.FromSeconds(5))));
    }
}
