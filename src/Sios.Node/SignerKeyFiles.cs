using System.Globalization;
using Sios.Ledger.Sqlite;
using Sios.Ledger.Storage;
using Sios.Server.Access;
using Sios.Signing;
using Sios.Verify;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Ledger.Durable;

namespace Sios.Node;

/// <summary>
/// The key files of a data folder and the three multi-file changes made to them: a signer rotation, the addition of an
/// Ed25519 log key and a passphrase change. Each is staged in a folder built under a temporary name and renamed into place (the commit point), then
/// applied file by file with atomic renames. Whoever next takes the keys lock finishes a committed change, or drops an
/// uncommitted one, so a crash at any point leaves keys that open the log and a log that verifies.
/// </summary>
internal sealed class SignerKeyFiles(string dataPath, string origin, string? store = null)
{
    /// <summary>The staged rotation's sub-folder holding copies of the keys it retires.</summary>
    private const string Retiring = "retiring";

    /// <summary>Names of the log's four key files, private first.</summary>
    public static readonly string[] FileNames =
    [
        FileName(MlDsaAlgorithm.MlDsa65, false), FileName(MlDsaAlgorithm.MlDsa44, false),
        FileName(MlDsaAlgorithm.MlDsa65, true), FileName(MlDsaAlgorithm.MlDsa44, true),
    ];

    /// <summary>The optional Ed25519 log key, encrypted like the others (the rotation never touches it).</summary>
    public const string Ed25519PrivateName = "log-ed25519.pem";

    /// <summary>Its public half, as the vkey verifiers and witnesses are given.</summary>
    public const string Ed25519PublicName = "log-ed25519.vkey";

    public string KeysPath { get; } = Path.Combine(dataPath, "keys");

    /// <summary>A committed Ed25519 key addition not yet applied: the new key's two files.</summary>
    public string AdditionPath => Path.Combine(KeysPath, "addition");

    /// <summary>A committed rotation not yet applied: the new key files, and <c>retiring/</c> with the old ones.</summary>
    public string RotationPath => Path.Combine(KeysPath, "rotation");

    /// <summary>A committed passphrase change not yet applied: re-encrypted copies, at their paths relative to keys/.</summary>
    public string PassphrasePath => Path.Combine(KeysPath, "passphrase");

    /// <summary>Retired key generations: <c>retired/1</c> holds the original keys, <c>retired/2</c> the next, and so on.</summary>
    public string RetiredPath => Path.Combine(KeysPath, "retired");

    private string DatabasePath => Path.Combine(dataPath, "log", "log.db");

    public static string FileName(MlDsaAlgorithm algorithm, bool isPublic) =>
        $"log-{(algorithm == MlDsaAlgorithm.MlDsa65 ? "ml-dsa-65" : "ml-dsa-44")}{(isPublic ? ".pub" : "")}.pem";

    /// <summary>
    /// Takes the keys lock, held by whoever changes key files or opens the log for writing, so neither a rotation nor a
    /// passphrase change ever overlaps another, nor a log being opened with keys about to be replaced.
    /// </summary>
    public IDisposable Lock()
    {
        var path = Path.Combine(KeysPath, "keys.lock");
        try
        {
            return FileLock.Acquire(path, TimeSpan.Zero, $"the key files are being changed by another sios process (lock {path}); wait for it and retry");
        }
        catch (FileLockBusyException e)
        {
            throw new LogInUseException(e.Message, e);
        }
    }

    /// <summary>Finishes or drops a rotation or passphrase change a crash interrupted. Call with the keys lock held.</summary>
    public void ResolvePending()
    {
        DeleteIfPresent(RotationPath + ".tmp");
        DeleteIfPresent(PassphrasePath + ".tmp");
        DeleteIfPresent(AdditionPath + ".tmp");
        if (Directory.Exists(AdditionPath))
        {
            if (AdditionSealed())
            {
                FinishAddition();
            }
            else
            {
                DeleteIfPresent(AdditionPath);
            }
        }

        if (Directory.Exists(RotationPath))
        {
            if (RotationSealed())
            {
                FinishRotation();
            }
            else
            {
                // Nothing was renamed yet (that happens only once sealed), so dropping the staging restores the old state.
                DeleteIfPresent(RotationPath);
            }
        }

        if (Directory.Exists(PassphrasePath))
        {
            FinishPassphraseChange();
        }
    }

    /// <summary>Stages a rotation to the successor keys (encrypted with <paramref name="passphrase"/>); commits when it returns.</summary>
    public void StageRotation(MlDsaPrivateKey successor65, MlDsaPrivateKey successor44, string passphrase)
    {
        var temp = RotationPath + ".tmp";
        DeleteIfPresent(temp);
        DurableFile.CreateDirectory(Path.Combine(temp, Retiring));
        foreach (var key in new[] { successor65, successor44 })
        {
            DurableFile.Replace(Path.Combine(temp, FileName(key.Algorithm, false)), System.Text.Encoding.UTF8.GetBytes(key.ExportEncryptedPem(passphrase)));
            DurableFile.Replace(Path.Combine(temp, FileName(key.Algorithm, true)), System.Text.Encoding.UTF8.GetBytes(key.ExportPublicKeyPem()));
        }

        foreach (var name in FileNames)
        {
            DurableFile.Replace(Path.Combine(temp, Retiring, name), File.ReadAllBytes(Path.Combine(KeysPath, name)));
        }

        Directory.Move(temp, RotationPath);
        DurableFile.SyncDirectory(KeysPath);
    }

    /// <summary>Applies a sealed rotation: the old keys go to the next <c>retired/N</c>, the new ones take their names.</summary>
    public void FinishRotation()
    {
        var retiring = Path.Combine(RotationPath, Retiring);
        if (Directory.Exists(retiring))
        {
            DurableFile.CreateDirectory(RetiredPath);
            var generation = RetiredGenerations().Count + 1;
            Directory.Move(retiring, Path.Combine(RetiredPath, generation.ToString(CultureInfo.InvariantCulture)));
            DurableFile.SyncDirectory(RetiredPath);
        }

        FaultPoint.Reach("rotate:retired");
        foreach (var name in FileNames)
        {
            var staged = Path.Combine(RotationPath, name);
            if (File.Exists(staged))
            {
                File.Move(staged, Path.Combine(KeysPath, name), overwrite: true);
                FaultPoint.Reach("rotate:moved-one");
            }
        }

        DurableFile.SyncDirectory(KeysPath);
        Directory.Delete(RotationPath, recursive: true);
        DurableFile.SyncDirectory(KeysPath);
    }

    /// <summary>The vkey text of the log's Ed25519 key.</summary>
    public static string Ed25519Vkey(string origin, Ed25519PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return VerifierKey.Create(origin, NoteKeyKind.Ed25519, key.PublicKey).ToString();
    }

    /// <summary>Reads an Ed25519 vkey file, refusing anything but an Ed25519 key of this log.</summary>
    public VerifierKey ReadEd25519Vkey(string file)
    {
        VerifierKey key;
        try
        {
            key = VerifierKey.Parse(File.ReadAllText(file));
        }
        catch (FormatViolationException e)
        {
            throw new NodeException($"{file} is not a usable vkey: {e.Message}");
        }

        return key.Kind == NoteKeyKind.Ed25519 && string.Equals(key.Name, origin, StringComparison.Ordinal)
            ? key
            : throw new NodeException($"{file} holds a {key.Kind} key named '{key.Name}', not an Ed25519 key of {origin}");
    }

    /// <summary>Stages the Ed25519 key (encrypted with <paramref name="passphrase"/>) and its vkey; commits when it returns.</summary>
    public void StageAddition(Ed25519PrivateKey key, string passphrase)
    {
        ArgumentNullException.ThrowIfNull(key);
        var temp = AdditionPath + ".tmp";
        DeleteIfPresent(temp);
        DurableFile.CreateDirectory(temp);
        DurableFile.Replace(Path.Combine(temp, Ed25519PrivateName), System.Text.Encoding.UTF8.GetBytes(key.ExportEncryptedPem(passphrase)));
        DurableFile.Replace(Path.Combine(temp, Ed25519PublicName), System.Text.Encoding.UTF8.GetBytes(Ed25519Vkey(origin, key) + "\n"));
        Directory.Move(temp, AdditionPath);
        DurableFile.SyncDirectory(KeysPath);
    }

    /// <summary>Applies a sealed addition: the private key, then its vkey, take their places in keys/.</summary>
    public void FinishAddition()
    {
        foreach (var name in new[] { Ed25519PrivateName, Ed25519PublicName })
        {
            var staged = Path.Combine(AdditionPath, name);
            if (File.Exists(staged))
            {
                File.Move(staged, Path.Combine(KeysPath, name), overwrite: true);
                FaultPoint.Reach("add:moved-one");
            }
        }

        DurableFile.SyncDirectory(KeysPath);
        Directory.Delete(AdditionPath, recursive: true);
        DurableFile.SyncDirectory(KeysPath);
    }

    /// <summary>Stages re-encrypted copies of <paramref name="files"/> (paths relative to keys/); commits when it returns.</summary>
    public void StagePassphraseChange(IReadOnlyList<(string Relative, byte[] Content)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var temp = PassphrasePath + ".tmp";
        DeleteIfPresent(temp);
        DurableFile.CreateDirectory(temp);
        foreach (var (relative, content) in files)
        {
            var target = Path.Combine(temp, relative);
            DurableFile.CreateDirectory(Path.GetDirectoryName(target)!);
            DurableFile.Replace(target, content);
        }

        Directory.Move(temp, PassphrasePath);
        DurableFile.SyncDirectory(KeysPath);
    }

    /// <summary>Applies a committed passphrase change: each staged file replaces its original by an atomic rename.</summary>
    public void FinishPassphraseChange()
    {
        foreach (var staged in Directory.EnumerateFiles(PassphrasePath, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList())
        {
            var target = Path.Combine(KeysPath, Path.GetRelativePath(PassphrasePath, staged));
            File.Move(staged, target, overwrite: true);
            FaultPoint.Reach("passphrase:moved-one");
        }

        DurableFile.SyncDirectory(KeysPath);
        Directory.Delete(PassphrasePath, recursive: true);
        DurableFile.SyncDirectory(KeysPath);
    }

    /// <summary>The retired generation folders, oldest first.</summary>
    public IReadOnlyList<string> RetiredGenerations()
    {
        if (!Directory.Exists(RetiredPath))
        {
            return [];
        }

        return Directory.EnumerateDirectories(RetiredPath)
            .Select(d => (Path: d, Ok: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var n), N: n))
            .Where(d => d.Ok && d.N > 0)
            .OrderBy(d => d.N)
            .Select(d => d.Path)
            .ToList();
    }

    /// <summary>The vkeys held by the public key files in <paramref name="folder"/>: ML-DSA-65 first, then the ML-DSA-44 cosigner.</summary>
    public IReadOnlyList<VerifierKey> ReadVerifierKeys(string folder) =>
        [ReadVerifierKey(Path.Combine(folder, FileName(MlDsaAlgorithm.MlDsa65, true)), MlDsaAlgorithm.MlDsa65),
         ReadVerifierKey(Path.Combine(folder, FileName(MlDsaAlgorithm.MlDsa44, true)), MlDsaAlgorithm.MlDsa44)];

    /// <summary>The log's original vkeys: those of <c>retired/1</c> after a rotation, else the current ones.</summary>
    public IReadOnlyList<VerifierKey> ReadOriginalVerifierKeys()
    {
        var generations = RetiredGenerations();
        return ReadVerifierKeys(generations.Count > 0 ? generations[0] : KeysPath);
    }

    private VerifierKey ReadVerifierKey(string file, MlDsaAlgorithm algorithm)
    {
        if (!File.Exists(file))
        {
            throw new NodeException($"{file} is missing from the data folder");
        }

        try
        {
            var (parsed, publicKey) = PublicKeyPem.Parse(File.ReadAllText(file));
            if (parsed != algorithm)
            {
                throw new NodeException($"{file} holds an {parsed} key, not {algorithm}");
            }

            return VerifierKey.Create(origin, algorithm == MlDsaAlgorithm.MlDsa65 ? NoteKeyKind.MlDsa65 : NoteKeyKind.MlDsa44Cosignature, publicKey);
        }
        catch (FormatViolationException e)
        {
            throw new NodeException($"{file} is not a usable public key: {e.Message}");
        }
    }

    /// <summary>
    /// A staged rotation took effect once the log's latest checkpoint carries the new keys' signatures: only the rotation's
    /// own signer holds them, and it signs only once signer.rotated is durable beneath that checkpoint.
    /// </summary>
    private bool RotationSealed()
    {
        // Files already renamed into keys/ are new keys too, so each staged key is read where it now lies.
        var staged = new[] { MlDsaAlgorithm.MlDsa65, MlDsaAlgorithm.MlDsa44 }
            .Select(a => ReadVerifierKey(File.Exists(Path.Combine(RotationPath, FileName(a, true))) ? Path.Combine(RotationPath, FileName(a, true)) : Path.Combine(KeysPath, FileName(a, true)), a))
            .ToList();
        return LatestCheckpointVerifies(staged);
    }

    /// <summary>
    /// A staged addition took effect once the log's latest checkpoint carries a valid line by the staged key: only the
    /// addition's own signer holds it, and it signs only once signer.added is durable beneath that checkpoint.
    /// </summary>
    private bool AdditionSealed()
    {
        var name = Path.Combine(AdditionPath, Ed25519PublicName);
        var key = ReadEd25519Vkey(File.Exists(name) ? name : Path.Combine(KeysPath, Ed25519PublicName));
        return LatestCheckpointVerifies([key]);
    }

    private bool LatestCheckpointVerifies(IReadOnlyList<VerifierKey> keys)
    {
        if (LogStores.IsEmbedded(store) && !File.Exists(DatabasePath))
        {
            return false;
        }

        var log = LogStores.Open(dataPath, store);
        try
        {
            var latest = log.GetLatestCheckpointAsync().GetAwaiter().GetResult();
            if (latest is null)
            {
                return false;
            }

            new CheckpointVerifier(origin, keys).Verify(latest.Note);
            return true;
        }
        catch (VerificationException)
        {
            return false;
        }
        finally
        {
            log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void DeleteIfPresent(string folder)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
