namespace Sios.Signing.Tests;

/// <summary>The passphrase comes from SIOS_KEY_PASSPHRASE, or the error says how to set it.</summary>
public class KeyPassphraseTests
{
    [Fact]
    public void Reads_the_environment_and_explains_when_missing()
    {
        var saved = Environment.GetEnvironmentVariable(KeyPassphrase.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(KeyPassphrase.EnvironmentVariable, null);
            var missing = Assert.Throws<KeyPassphraseException>(KeyPassphrase.FromEnvironment);
            Assert.Equal(
                "SIOS_KEY_PASSPHRASE is not set: export it with the passphrase chosen at 'sios init'", missing.Message);

            Environment.SetEnvironmentVariable(KeyPassphrase.EnvironmentVariable, "");
            Assert.Throws<KeyPassphraseException>(KeyPassphrase.FromEnvironment);

            Environment.SetEnvironmentVariable(KeyPassphrase.EnvironmentVariable, "s3cret passphrase");
            Assert.Equal("s3cret passphrase", KeyPassphrase.FromEnvironment());
        }
        finally
        {
            Environment.SetEnvironmentVariable(KeyPassphrase.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public void Variable_name_is_stable()
    {
        Assert.Equal("SIOS_KEY_PASSPHRASE", KeyPassphrase.EnvironmentVariable);
    }
}
