using Sios.Signing;

namespace Sios.Cli.Tests;

/// <summary><c>sios key passphrase</c>: every private key file re-encrypted, all or nothing, the secrets themselves unchanged.</summary>
public sealed class KeyPassphraseCliTests : IDisposable
{
    private const string NewPassphrase = "a brand new passphrase";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sios-pass-" + Guid.NewGuid().ToString("N"));

    private string Data => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<SiosRun> RunAsync(string passphrase, string[] args, params (string Name, string Value)[] env) =>
        SiosProcess.RunAsync([.. args, "--data", Data], passphrase, null, env);

    private async Task InitAsync(bool rotate)
    {
        Directory.CreateDirectory(_root);
        Assert.Equal(0, (await SiosProcess.RunAsync(["init", "--origin", "pass.sios.local/log", "--data", Data])).ExitCode);
        if (rotate)
        {
            // Retired private keys must be re-encrypted too.
            Assert.Equal(0, (await RunAsync(SiosProcess.Passphrase, ["key", "rotate-signer"])).ExitCode);
        }
    }

    private byte[] NonceKey(string passphrase)
    {
        using var master = MasterSecret.Import(File.ReadAllText(Path.Combine(Data, "keys", "master.key")), passphrase);
        return master.DeriveKey(MasterSecret.CommitmentNoncePurpose);
    }

    private async Task AssertOnlyNewPassphraseWorksAsync(byte[] nonceKeyBefore)
    {
        var refused = await RunAsync(SiosProcess.Passphrase, ["log", "note", "old passphrase"]);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("does not open", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync(NewPassphrase, ["log", "note", "new passphrase"])).ExitCode);
        Assert.Equal(nonceKeyBefore, NonceKey(NewPassphrase));
        var retiredDir = Path.Combine(Data, "keys", "retired", "1");
        foreach (var retired in (Directory.Exists(retiredDir) ? Directory.GetFiles(retiredDir, "*.pem") : []).Where(f => !f.EndsWith(".pub.pem", StringComparison.Ordinal)))
        {
            using var key = MlDsaPrivateKey.ImportEncryptedPem(File.ReadAllText(retired), NewPassphrase);
            Assert.Throws<KeyPassphraseException>(() => MlDsaPrivateKey.ImportEncryptedPem(File.ReadAllText(retired), SiosProcess.Passphrase));
        }

        Assert.False(Directory.Exists(Path.Combine(Data, "keys", "passphrase")));
        Assert.Equal(0, (await RunAsync(NewPassphrase, ["log", "verify"])).ExitCode);
    }

    [Fact]
    public async Task The_new_passphrase_opens_every_key_the_old_one_no_longer_does_and_the_master_secret_is_the_same()
    {
        await InitAsync(rotate: true);
        var before = NonceKey(SiosProcess.Passphrase);
        var vkeys = (await RunAsync(SiosProcess.Passphrase, ["key", "vkeys"])).Out;
        var changed = await RunAsync(SiosProcess.Passphrase, ["key", "passphrase"], ("SIOS_NEW_KEY_PASSPHRASE", NewPassphrase));
        Assert.True(changed.ExitCode == 0, changed.Stderr);
        Assert.Equal(5, changed.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain(NewPassphrase, changed.Out + changed.Stderr, StringComparison.Ordinal);
        await AssertOnlyNewPassphraseWorksAsync(before);
        Assert.Equal(vkeys, (await RunAsync(NewPassphrase, ["key", "vkeys"])).Out);
    }

    [Theory]
    [InlineData("passphrase:moved-one")]
    public async Task A_change_cut_short_after_its_commit_is_completed_by_the_next_command(string point)
    {
        await InitAsync(rotate: false);
        var before = NonceKey(SiosProcess.Passphrase);
        var crashed = await RunAsync(SiosProcess.Passphrase, ["key", "passphrase"], ("SIOS_NEW_KEY_PASSPHRASE", NewPassphrase), ("SIOS_FAULT_EXIT_AT", point));
        Assert.Equal(86, crashed.ExitCode);
        await AssertOnlyNewPassphraseWorksAsync(before);
    }

    [Fact]
    public async Task A_wrong_passphrase_or_no_new_one_changes_nothing()
    {
        await InitAsync(rotate: false);
        var files = Directory.GetFiles(Path.Combine(Data, "keys"), "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        var contents = files.Select(File.ReadAllBytes).ToList();

        Assert.Equal(3, (await RunAsync("not the passphrase", ["key", "passphrase"], ("SIOS_NEW_KEY_PASSPHRASE", NewPassphrase))).ExitCode);
        Assert.Equal(2, (await RunAsync(SiosProcess.Passphrase, ["key", "passphrase"])).ExitCode);
        Assert.Equal(2, (await RunAsync(SiosProcess.Passphrase, ["key", "passphrase"], ("SIOS_NEW_KEY_PASSPHRASE", SiosProcess.Passphrase))).ExitCode);

        Assert.Equal(files, Directory.GetFiles(Path.Combine(Data, "keys"), "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(contents, files.Select(File.ReadAllBytes).ToList());
        Assert.Equal(0, (await RunAsync(SiosProcess.Passphrase, ["log", "note", "still the old passphrase"])).ExitCode);
    }
}
