namespace Sios.Signing;

/// <summary>Where SIOS finds the passphrase that unlocks its signing keys.</summary>
public static class KeyPassphrase
{
    /// <summary>The environment variable holding the passphrase.</summary>
    public const string EnvironmentVariable = "SIOS_KEY_PASSPHRASE";

    /// <summary>
    /// Reads the passphrase from <see cref="EnvironmentVariable"/>; throws <see cref="KeyPassphraseException"/>
    /// when it is missing or empty.
    /// </summary>
    public static string FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(value))
        {
            throw new KeyPassphraseException(
                $"{EnvironmentVariable} is not set: export it with the passphrase chosen at 'sios init'");
        }

        return value;
    }
}
