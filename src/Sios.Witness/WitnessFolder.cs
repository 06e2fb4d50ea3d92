using System.Text;
using Sios.Ledger.Durable;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;

namespace Sios.Witness;

/// <summary>A mistake in what the operator asked for (a bad name, vkey or origin); the CLI's usage error.</summary>
public sealed class WitnessUsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WitnessUsageException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public WitnessUsageException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no detail.</summary>
    public WitnessUsageException() { }
}

/// <summary>
/// A witness data folder: <c>witness.json</c> (<see cref="WitnessConfig"/>), <c>keys/witness-ml-dsa-44.pem</c> and
/// <c>keys/witness-ed25519.pem</c> (encrypted PKCS#8 under <c>SIOS_KEY_PASSPHRASE</c>), <c>state/</c> and <c>record</c>
/// (<see cref="WitnessState"/>), and <c>witness.lock</c>, held by whoever serves or changes it.
/// </summary>
public sealed class WitnessFolder
{
    private WitnessFolder(string path, WitnessConfig config)
    {
        Path = path;
        Config = config;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Its configuration as last read.</summary>
    public WitnessConfig Config { get; private set; }

    private string ConfigPath => System.IO.Path.Combine(Path, "witness.json");

    private static string KeyPath(string folder, string kind) => System.IO.Path.Combine(folder, "keys", $"witness-{kind}.pem");

    /// <summary>Creates a witness named <paramref name="name"/> in <paramref name="path"/>: both keys, sealed, then the config.</summary>
    public static WitnessFolder Init(string path, string name, string passphrase)
    {
        if (!NoteText.IsValidKeyName(name) || Encoding.UTF8.GetByteCount(name) > 255)
        {
            throw new WitnessUsageException($"witness name '{name}' must be a valid key name (no spaces, '+' or control characters) of at most 255 bytes");
        }

        var configPath = System.IO.Path.Combine(path, "witness.json");
        if (File.Exists(configPath))
        {
            throw new InvalidOperationException($"{path} already holds a witness (witness.json); choose another --data");
        }

        DurableFile.CreateDirectory(System.IO.Path.Combine(path, "keys"));
        using var mlDsa44 = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
        using var ed25519 = Ed25519PrivateKey.Generate();
        // Keys first, config last: a folder with witness.json always has the keys its vkeys name.
        DurableFile.Replace(KeyPath(path, "ml-dsa-44"), Encoding.UTF8.GetBytes(mlDsa44.ExportEncryptedPem(passphrase)));
        DurableFile.Replace(KeyPath(path, "ed25519"), Encoding.UTF8.GetBytes(ed25519.ExportEncryptedPem(passphrase)));
        var config = new WitnessConfig(WitnessConfig.FormatName, name,
            [VerifierKey.Create(name, NoteKeyKind.MlDsa44Cosignature, mlDsa44.PublicKey).ToString(), VerifierKey.Create(name, NoteKeyKind.Ed25519Cosignature, ed25519.PublicKey).ToString()], []);
        if (!DurableFile.TryCreate(configPath, config.ToJson()))
        {
            throw new InvalidOperationException($"{path} already holds a witness (witness.json); choose another --data");
        }

        return new WitnessFolder(path, config);
    }

    /// <summary>Opens an initialised witness folder.</summary>
    public static WitnessFolder Open(string path)
    {
        var configPath = System.IO.Path.Combine(path, "witness.json");
        if (!File.Exists(configPath))
        {
            throw new InvalidOperationException($"{path} is not a witness folder (no witness.json); run 'sios witness init' first");
        }

        try
        {
            return new WitnessFolder(path, WitnessConfig.Parse(File.ReadAllBytes(configPath)));
        }
        catch (VerificationException e)
        {
            throw new InvalidDataException($"{configPath}: {e.Message}", e);
        }
    }

    /// <summary>Adds a log to witness; refused while the witness serves (<see cref="FileLockBusyException"/>) or if its origin is known.</summary>
    public void AddLog(string origin, IReadOnlyList<string> vkeys)
    {
        var log = new WitnessLog(origin, vkeys);
        try
        {
            _ = WitnessConfig.LogKeys(log);
        }
        catch (VerificationException e)
        {
            throw new WitnessUsageException(e.Message, e);
        }

        var lockPath = System.IO.Path.Combine(Path, "witness.lock");
        using var held = FileLock.Acquire(lockPath, TimeSpan.Zero, $"the witness in {Path} is serving (lock {lockPath}); stop it to add a log");
        var current = WitnessConfig.Parse(File.ReadAllBytes(ConfigPath));
        if (current.Logs.Any(l => string.Equals(l.Origin, origin, StringComparison.Ordinal)))
        {
            throw new WitnessUsageException($"log {origin} is already witnessed");
        }

        var next = current with { Logs = [.. current.Logs, log] };
        DurableFile.Replace(ConfigPath, next.ToJson());
        Config = next;
    }

    /// <summary>Unseals both keys; throws <see cref="KeyPassphraseException"/> on a wrong passphrase, and refuses keys that are not the config's.</summary>
    public Cosigner LoadCosigner(string passphrase, TimeProvider? clock = null)
    {
        var mlDsa44 = MlDsaPrivateKey.ImportEncryptedPem(File.ReadAllText(KeyPath(Path, "ml-dsa-44")), passphrase);
        Ed25519PrivateKey ed25519;
        try
        {
            ed25519 = Ed25519PrivateKey.ImportEncryptedPem(File.ReadAllText(KeyPath(Path, "ed25519")), passphrase);
        }
        catch
        {
            mlDsa44.Dispose();
            throw;
        }

        var cosigner = new Cosigner(Config.Name, mlDsa44, ed25519, clock);
        if (!cosigner.Keys.Select(k => k.ToString()).SequenceEqual(Config.Cosigners, StringComparer.Ordinal))
        {
            cosigner.Dispose();
            throw new InvalidDataException($"the keys in {System.IO.Path.Combine(Path, "keys")} are not the ones witness.json names");
        }

        return cosigner;
    }
}
