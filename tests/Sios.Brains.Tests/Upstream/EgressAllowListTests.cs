using System.Net;
using Sios.Brains.Upstream;

namespace Sios.Brains.Tests.Upstream;

public sealed class EgressAllowListTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("http://gpu1.lan")]
    [InlineData("10.0.0.7:8080")]
    [InlineData("gpu1.lan/v1")]
    [InlineData("two words")]
    public void Entries_that_are_not_addresses_or_host_names_are_rejected(string entry)
    {
        var e = Assert.Throws<ArgumentException>(() => new EgressAllowList([entry]));
        Assert.Contains("neither an IP address nor a host name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Addresses_and_host_names_are_kept_apart()
    {
        var list = new EgressAllowList(["10.0.0.7", "[fd00::1]", "GPU1.lan", "gpu1.lan", "::ffff:10.0.0.8"]);

        Assert.Equal(new[] { "10.0.0.7", "10.0.0.8", "fd00::1" }, list.Addresses.Select(a => a.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(["gpu1.lan"], list.HostNames);
    }

    [Fact]
    public async Task Only_permitted_addresses_of_a_host_are_returned()
    {
        var dns = new Dictionary<string, IPAddress[]>
        {
            ["mixed.lan"] = [IPAddress.Parse("10.0.0.9"), IPAddress.Parse("::ffff:10.0.0.7"), IPAddress.Parse("10.0.0.8")],
            ["gpu1.lan"] = [IPAddress.Parse("10.0.0.8")],
        };
        var list = new EgressAllowList(["10.0.0.7", "gpu1.lan"], (h, _) => Task.FromResult(dns[h]));

        var permitted = await list.PermittedAddressesAsync("mixed.lan", 80, CancellationToken.None);
        Assert.Equal([IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.8")], permitted);

        var refused = await Assert.ThrowsAsync<EgressRefusedException>(() => list.PermittedAddressesAsync("10.0.0.9", 443, CancellationToken.None));
        Assert.Equal(443, refused.Port);
        Assert.Contains("10.0.0.9:443", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Its_handler_connects_through_it_and_bypasses_proxies()
    {
        var list = new EgressAllowList(["127.0.0.1"]);
        using var handler = list.CreateHandler();

        Assert.NotNull(handler.ConnectCallback);
        Assert.False(handler.UseProxy);
        Assert.False(handler.AllowAutoRedirect);
    }
}
