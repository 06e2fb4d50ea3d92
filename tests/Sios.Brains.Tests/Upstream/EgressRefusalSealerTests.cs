using System.Net;
using System.Text.Json;
using Sios.Brains.Tests.Pool;
using Sios.Brains.Upstream;

namespace Sios.Brains.Tests.Upstream;

/// <summary>Refused connections are sealed, one entry per destination per minute, the rest counted into the next.</summary>
public sealed class EgressRefusalSealerTests
{
    [Fact]
    public async Task Refusals_are_sealed_rate_limited_and_the_folded_ones_counted()
    {
        var clock = new ManualClock();
        var sealed_ = new List<JsonDocument>();
        var egress = new EgressAllowList(["10.0.0.7"]);
        var sealer = new EgressRefusalSealer(egress, (entry, _) =>
        {
            lock (sealed_)
            {
                sealed_.Add(JsonDocument.Parse(entry));
            }

            return Task.CompletedTask;
        }, clock);

        for (var i = 0; i < 100; i++)
        {
            await Assert.ThrowsAsync<EgressRefusedException>(() => egress.PermittedAddressesAsync("127.0.0.2", 443, CancellationToken.None));
        }

        await Assert.ThrowsAsync<EgressRefusedException>(() => egress.PermittedAddressesAsync("127.0.0.3", 443, CancellationToken.None));
        await sealer.LastSeal;
        Assert.Equal(2, sealed_.Count);
        Assert.Equal("egress.refused", sealed_[0].RootElement.GetProperty("type").GetString());
        Assert.Equal("127.0.0.2", sealed_[0].RootElement.GetProperty("host").GetString());
        Assert.Equal(0, sealed_[0].RootElement.GetProperty("suppressed").GetInt32());

        clock.Advance(EgressRefusalSealer.Window);
        await Assert.ThrowsAsync<EgressRefusedException>(() => egress.PermittedAddressesAsync("127.0.0.2", 443, CancellationToken.None));
        await sealer.LastSeal;
        Assert.Equal(3, sealed_.Count);
        Assert.Equal(99, sealed_[2].RootElement.GetProperty("suppressed").GetInt32());

        Assert.Equal(IPAddress.Parse("10.0.0.7"), (await egress.PermittedAddressesAsync("10.0.0.7", 80, CancellationToken.None)).Single());
        Assert.Equal(3, sealed_.Count);
        Assert.Equal("allow 10.0.0.7", egress.Describe());
        Assert.Equal("offline", new EgressAllowList([]).Describe());
        sealed_.ForEach(d => d.Dispose());
    }

    [Fact]
    public void Every_outbound_http_client_in_the_product_goes_through_the_allow_list()
    {
        // The egress lock holds only if no code makes its own handler: the allow-list's CreateHandler is the one door.
        var src = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src"));
        Assert.True(Directory.Exists(src), src);
        var offenders = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => !f.EndsWith("EgressAllowList.cs", StringComparison.Ordinal))
            // The CLI's client for the server's control socket connects to a Unix domain socket only, never the network.
            .Where(f => !f.EndsWith("ControlClient.cs", StringComparison.Ordinal) || !File.ReadAllText(f).Contains("UnixDomainSocketEndPoint", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f) is var text && (text.Contains("new SocketsHttpHandler", StringComparison.Ordinal)
                || text.Contains("new HttpClientHandler", StringComparison.Ordinal)
                || text.Contains("new HttpClient()", StringComparison.Ordinal)
                || text.Contains("new HttpClient {", StringComparison.Ordinal)))
            .ToList();
        Assert.Empty(offenders);
    }
}
