using System.Globalization;
using System.Text;
using System.Text.Json;
using Sios.Verify.Attestations;

namespace Sios.EndToEnd;

/// <summary><c>sios serve</c> seals an attestation right after <c>system.started</c>, stating where it listens.</summary>
public sealed class AttestationServeTests(ServedDemo demo) : IClassFixture<ServedDemo>
{
    [Fact]
    public async Task Serve_seals_an_attestation_at_start_that_verifies_with_the_vkey()
    {
        var folder = Path.Combine(demo.Data, "attestations");
        var file = Assert.Single(Directory.GetFiles(folder, "*.attestation"));
        var index = long.Parse(Path.GetFileNameWithoutExtension(file), CultureInfo.InvariantCulture);
        var verified = new AttestationVerifier(demo.Vkeys[0]).Verify(await File.ReadAllBytesAsync(file));
        var listen = demo.Url.ToString().TrimEnd('/');
        Assert.Equal([listen], verified.Statement.Listen);
        Assert.Empty(verified.Statement.Egress);
        Assert.Equal(["clinical", "contracts", "demo", "demo-tools", "ledger"], verified.Statement.Brains.Select(b => b.Name));
        Assert.All(verified.Statement.Brains, b => Assert.Equal(DiskState.Ok, b.Disk));

        var started = await demo.EntryAsync(index - 1);
        Assert.Equal("system.started", started.GetProperty("type").GetString());
        Assert.Equal(verified.Statement.Config, started.GetProperty("config").GetString());
        var attestation = await demo.EntryAsync(index);
        Assert.Equal("attestation", attestation.GetProperty("type").GetString());
        Assert.Equal(verified.Sha256, attestation.GetProperty("statement").GetString());
        Assert.Equal(index, verified.Statement.LogSize);

        var check = await SiosCli.RunAsync("attest", "--check", file, "--data", demo.Data, "--urls", listen);
        Assert.True(check.ExitCode == 1, check.Err);
        Assert.Contains("config", check.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("brain", check.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("listen", check.Out, StringComparison.Ordinal);
    }
}
