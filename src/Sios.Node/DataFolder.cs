using System.Text.Json;
using System.Text.Json.Serialization;
using Sios.Brains.Registry;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Pipeline;
using Sios.Ledger.State;
using Sios.Ledger.Sqlite;
using Sios.Server.Access;
using Sios.Server.Vault;
using Sios.Signing;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Ledger.Durable;

namespace Sios.Node;

/// <summary>The on-disk layout of a SIOS data folder: config, the log's keys (encrypted at rest) and the log database.</summary>
internal sealed class DataFolder
{
    private const string ConfigFile = "sios.json";
    private const string MasterKeyFile = "master.key";

    private DataFolder(string path, DataConfig config)
    {
        Path = path;
        Config = config;
    }

    public string Path { get; }

    private (string Passphrase, byte[] Tail, byte[] State)? _derived;

    public DataConfig Config { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, "log", "log.db");

    /// <summary>The newest checkpoint this log has published, kept beside the database against rollbacks (<see cref="RollbackGuard"/>).</summary>
    public string PublishedCheckpointPath => System.IO.Path.Combine(Path, "log", RollbackGuard.FileName);

    /// <summary>The newest checkpoint the witness policy's quorum cosigned, with their lines (<see cref="NodeWitnessing"/>).</summary>
    public string WitnessedCheckpointPath => System.IO.Path.Combine(Path, "log", NodeWitnessing.FileName);

    /// <summary>The operator's API keys (hashes and scopes only).</summary>
    public string ApiKeysPath => System.IO.Path.Combine(Path, "keys", ApiKeyStore.FileName);

    /// <summary>The running server's control socket, through which the CLI changes keys while the server holds the log.</summary>
    public string ControlSocketPath => System.IO.Path.Combine(Path, "run", "control.sock");

    /// <summary>The config digest the last start of <c>serve</c> sealed, so the next start can seal <c>config.changed</c>.</summary>
    public string LastConfigDigestPath => System.IO.Path.Combine(Path, "run", "config.digest");

    /// <summary>The content vault: answered requests and responses, encrypted, kept for disclosure (sios.json vaultRetentionDays).</summary>
    public string VaultPath => System.IO.Path.Combine(Path, "vault");

    /// <summary>The master secret, encrypted at rest with the key passphrase.</summary>
    public string MasterKeyPath => System.IO.Path.Combine(Path, "keys", MasterKeyFile);

    internal static string KeyFile(string root, MlDsaAlgorithm algorithm, bool isPublic) =>
        System.IO.Path.Combine(root, "keys", $"log-{(algorithm == MlDsaAlgorithm.MlDsa65 ? "ml-dsa-65" : "ml-dsa-44")}{(isPublic ? ".pub" : "")}.pem");

    /// <summary>The optional Ed25519 log key (SPEC §6): its encrypted private key, or (<paramref name="isPublic"/>) its vkey.</summary>
    internal static string Ed25519KeyFile(string root, bool isPublic) =>
        System.IO.Path.Combine(root, "keys", isPublic ? SignerKeyFiles.Ed25519PublicName : SignerKeyFiles.Ed25519PrivateName);

    /// <summary>Opens an existing data folder, or explains how to make one.</summary>
    public static DataFolder Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var configPath = System.IO.Path.Combine(full, ConfigFile);
        if (!File.Exists(configPath))
        {
            throw new NodeException($"{full} is not a SIOS data folder (no {ConfigFile}); create one with 'sios init --origin ORIGIN --data {path}'");
        }

        DataConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(File.ReadAllBytes(configPath), DataConfigJson.Default.DataConfig);
        }
        catch (JsonException e)
        {
            throw new NodeException($"{configPath} is not valid: {e.Message}");
        }

        if (config is null || config.Format != 1 || string.IsNullOrEmpty(config.Origin))
        {
            throw new NodeException($"{configPath} is not a format-1 SIOS configuration");
        }

        return new DataFolder(full, config);
    }

    /// <summary>
    /// Creates a new data folder atomically: everything is built beside it and renamed into place. With
    /// <paramref name="ed25519"/> the log also gets an Ed25519 key, which signs from the size-0 checkpoint on, and whose
    /// signer.added is the log's first entry.
    /// </summary>
    public static async Task<DataFolder> InitAsync(string path, string origin, string passphrase, CancellationToken ct, int vaultRetentionDays = 0, bool ed25519 = false, string? store = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full) || (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any()))
        {
            throw new NodeException($"{full} already exists and is not empty; choose another --data folder");
        }

        if (store is not null)
        {
            await RequireEmptyStoreAsync(store, ct).ConfigureAwait(false);
        }

        var staging = full.TrimEnd(System.IO.Path.DirectorySeparatorChar) + $".init-{Environment.ProcessId}";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        CreatePrivateDirectory(staging);
        CreatePrivateDirectory(System.IO.Path.Combine(staging, "keys"));
        CreatePrivateDirectory(System.IO.Path.Combine(staging, "log"));
        var config = new DataConfig { Format = 1, Origin = origin, Created = DateTimeOffset.UtcNow, VaultRetentionDays = vaultRetentionDays, Store = store };
        try
        {
            using var primary = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65);
            using var cosigner = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
            foreach (var key in new[] { primary, cosigner })
            {
                WritePrivate(KeyFile(staging, key.Algorithm, false), key.ExportEncryptedPem(passphrase));
                WritePrivate(KeyFile(staging, key.Algorithm, true), key.ExportPublicKeyPem());
            }

            if (ed25519)
            {
                using var key = Ed25519PrivateKey.Generate();
                WritePrivate(Ed25519KeyFile(staging, false), key.ExportEncryptedPem(passphrase));
                WritePrivate(Ed25519KeyFile(staging, true), SignerKeyFiles.Ed25519Vkey(origin, key) + "\n");
            }

            using (var master = MasterSecret.Generate())
            {
                WritePrivate(System.IO.Path.Combine(staging, "keys", MasterKeyFile), master.Export(passphrase));
            }

            WritePrivate(System.IO.Path.Combine(staging, ConfigFile), JsonSerializer.Serialize(config, DataConfigJson.Default.DataConfig));
            var folder = new DataFolder(staging, config);
            // Opening the new log reads the key files back (proving they decrypt with this passphrase) and signs the
            // size-0 checkpoint, so the folder is never without one.
            var log = await folder.OpenLogAsync(passphrase, ct).ConfigureAwait(false);
            await using (log.ConfigureAwait(false))
            {
                // Every Ed25519 key a log has is vouched for by a signer.added in it, a new log's as much as a later
                // one's: 'sios log verify' learns from that entry alone which key must sign, and from which size.
                if (folder.LoadEd25519VerifierKey() is { } added)
                {
                    await log.AppendAsync(new Verify.Rotation.SignerAddedEntry(added).Write(), ct).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }

        if (Directory.Exists(full))
        {
            Directory.Delete(full);
        }

        Directory.Move(staging, full);
        return new DataFolder(full, config);
    }

    /// <summary>
    /// A new data folder starts a new log: a shared store that already holds one (another folder's, under other keys) is
    /// refused before any key is made, rather than found unverifiable at the first start.
    /// </summary>
    private static async Task RequireEmptyStoreAsync(string store, CancellationToken ct)
    {
        var location = LogStores.ParsePostgres(store);
        await using var existing = LogStores.Open("", store);
        var size = await existing.GetStoredSizeAsync(ct).ConfigureAwait(false);
        if (size > 0 || await existing.GetLatestCheckpointAsync(ct).ConfigureAwait(false) is not null)
        {
            throw new NodeException($"the log store {location.Display} already holds a log ({size} entries); a new data folder starts a new log: name another schema (?schema=NAME), or copy the data folder of the node that made it to serve that log", NodeFailure.Usage);
        }
    }

    /// <summary>The log's verifier keys from the public key files: ML-DSA-65 first, then the ML-DSA-44 cosigner.</summary>
    public IReadOnlyList<VerifierKey> LoadVerifierKeys()
    {
        var keys = new List<VerifierKey>();
        foreach (var (algorithm, kind) in new[] { (MlDsaAlgorithm.MlDsa65, NoteKeyKind.MlDsa65), (MlDsaAlgorithm.MlDsa44, NoteKeyKind.MlDsa44Cosignature) })
        {
            var file = KeyFile(Path, algorithm, true);
            var (parsedAlgorithm, publicKey) = PublicKeyPem.Parse(ReadText(file));
            if (parsedAlgorithm != algorithm)
            {
                throw new NodeException($"{file} holds an {parsedAlgorithm} key, not {algorithm}");
            }

            keys.Add(VerifierKey.Create(Config.Origin, kind, publicKey));
        }

        return keys;
    }

    /// <summary>The log's Ed25519 vkey from keys/log-ed25519.vkey, or null when the log has none.</summary>
    public VerifierKey? LoadEd25519VerifierKey()
    {
        var file = Ed25519KeyFile(Path, true);
        if (!File.Exists(file))
        {
            var secret = Ed25519KeyFile(Path, false);
            return File.Exists(secret) ? throw new NodeException($"{file} is missing from the data folder, though its private key {secret} is there") : null;
        }

        return KeyFiles.ReadEd25519Vkey(file);
    }

    /// <summary>Every vkey that signs the log's checkpoints: the two of <see cref="LoadVerifierKeys"/>, then the Ed25519 one when present.</summary>
    public IReadOnlyList<VerifierKey> LoadSigningKeys() => LoadEd25519VerifierKey() is { } ed25519 ? [.. LoadVerifierKeys(), ed25519] : LoadVerifierKeys();

    /// <summary>Decrypts the Ed25519 log key, or returns null when the log has none; refuses a key that is not the one its vkey file names.</summary>
    public Ed25519PrivateKey? LoadEd25519PrivateKey(string passphrase)
    {
        if (LoadEd25519VerifierKey() is not { } vkey)
        {
            return null;
        }

        var file = Ed25519KeyFile(Path, false);
        Ed25519PrivateKey key;
        try
        {
            key = Ed25519PrivateKey.ImportEncryptedPem(ReadText(file), passphrase);
        }
        catch (KeyPassphraseException)
        {
            throw new NodeException($"SIOS_KEY_PASSPHRASE does not open {file}: wrong passphrase, or the key file is damaged");
        }
        catch (KeyFormatException e)
        {
            throw new NodeException($"{file} is not a usable key: {e.Message}");
        }

        if (!key.PublicKey.AsSpan().SequenceEqual(vkey.PublicKey))
        {
            key.Dispose();
            throw new NodeException($"{file} is not the key {Ed25519KeyFile(Path, true)} names", NodeFailure.Integrity);
        }

        return key;
    }

    /// <summary>The log's key files, and the rotation and passphrase changes made to them.</summary>
    public SignerKeyFiles KeyFiles => new(Path, Config.Origin, Config.Store);

    /// <summary>Decrypts the log's signing keys with the passphrase: the ML-DSA pair, and the Ed25519 key when present.</summary>
    public LogSigner LoadSigner(string passphrase)
    {
        var primary = LoadPrivateKey(MlDsaAlgorithm.MlDsa65, passphrase);
        MlDsaPrivateKey? cosigner = null;
        Ed25519PrivateKey? ed25519 = null;
        try
        {
            cosigner = LoadPrivateKey(MlDsaAlgorithm.MlDsa44, passphrase);
            ed25519 = LoadEd25519PrivateKey(passphrase);
            return new LogSigner(Config.Origin, primary, cosigner, ed25519: ed25519);
        }
        catch
        {
            primary.Dispose();
            cosigner?.Dispose();
            ed25519?.Dispose();
            throw;
        }
    }

    /// <summary>Decrypts one of the log's current signing keys with the passphrase.</summary>
    public MlDsaPrivateKey LoadPrivateKey(MlDsaAlgorithm algorithm, string passphrase)
    {
        var file = KeyFile(Path, algorithm, false);
        try
        {
            return MlDsaPrivateKey.ImportEncryptedPem(ReadText(file), passphrase);
        }
        catch (KeyPassphraseException)
        {
            throw new NodeException($"SIOS_KEY_PASSPHRASE does not open {file}: wrong passphrase, or the key file is damaged");
        }
        catch (KeyFormatException e)
        {
            throw new NodeException($"{file} is not a usable key: {e.Message}");
        }
    }

    /// <summary>
    /// Decrypts the master secret (keys/master.key) with the passphrase. A folder made before the master secret existed
    /// gets one now, but only once the passphrase has proven itself on the log's signing keys: a secret sealed under a
    /// mistyped passphrase would lock the operator out of it for good.
    /// </summary>
    public MasterSecret LoadMasterSecret(string passphrase)
    {
        var file = MasterKeyPath;
        using (KeyFiles.Lock())
        {
            KeyFiles.ResolvePending();
        }

        if (!File.Exists(file))
        {
            LoadSigner(passphrase).Dispose();
            using var created = MasterSecret.Generate();
            // Losing a race to another process is fine: its secret is the one on disk, and the one read below.
            _ = DurableFile.TryCreate(file, System.Text.Encoding.UTF8.GetBytes(created.Export(passphrase)));
        }

        try
        {
            return MasterSecret.Import(ReadText(file), passphrase);
        }
        catch (KeyPassphraseException)
        {
            throw new NodeException($"SIOS_KEY_PASSPHRASE does not open {file}: wrong passphrase, or the file is damaged");
        }
        catch (KeyFormatException e)
        {
            throw new NodeException($"{file} is not a usable master key file: {e.Message}");
        }
    }

    /// <summary>The content vault under the key <paramref name="master"/> derives for it, with this folder's retention.</summary>
    public ContentVault OpenVault(MasterSecret master, TimeProvider? clock = null)
    {
        var key = master.DeriveKey(ContentVault.KeyPurpose);
        try
        {
            // On a shared store every node keeps its answers in the database, so any node can disclose any answer.
            var shelves = Config.Store is { } store ? LogStores.SharedShelves(store) : ContentVault.FolderShelves(VaultPath);
            return new ContentVault(shelves, key, Config.VaultRetentionDays, clock);
        }
        catch (ArgumentException e)
        {
            throw new NodeException($"{System.IO.Path.Combine(Path, ConfigFile)}: vaultRetentionDays: {e.Message.Split(" (Parameter")[0]}");
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Opens the store for reading only (no writer lock; safe while a server runs).</summary>
    public Ledger.Storage.ILogStore OpenReader() => LogStores.Open(Path, Config.Store);

    /// <summary>
    /// Opens the log for appending: finishes or drops a key change a crash interrupted, then writer lock, recovery and the
    /// pipeline. The keys lock is held until the writer lock is, so no rotation can swap the keys in between.
    /// </summary>
    public async Task<TransparencyLog> OpenLogAsync(string passphrase, CancellationToken ct)
    {
        // Read before the keys lock: loading the master secret takes that lock itself to finish a pending key change.
        var tailKey = LoadTailKey(passphrase);
        var keyFiles = KeyFiles;
        using (keyFiles.Lock())
        {
            keyFiles.ResolvePending();
            return await OpenLogWithAsync(LoadSigner(passphrase), tailKey, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The key that seals and checks the log's unsigned tail (<see cref="TailSeals"/>), from the master secret.</summary>
    public byte[] LoadTailKey(string passphrase) => Derived(passphrase).Tail;

    /// <summary>
    /// The authority over the key and brain files for this log, from the master secret. A refusal or correction it makes
    /// is queued on <paramref name="log"/> as <c>state.refused</c> (sealed at the latest when the log closes).
    /// </summary>
    public StateFileAuthority Authority(TransparencyLog log, string passphrase) =>
        new(Derived(passphrase).State, log.Reader)
        {
            Refused = (kind, problem) =>
            {
                try
                {
                    _ = log.AppendAsync(StateFileAuthority.RefusedEntry(kind, problem)).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                }
                catch (Exception e) when (e is LogFailedException or LogBackpressureException)
                {
                    // The refusal itself still stands: the file is not trusted whether or not the record could say so.
                }
            },
        };

    /// <summary>The authority over the key and brain files for checking only (a reader of the log; nothing is sealed).</summary>
    public StateFileAuthority CheckingAuthority(Ledger.Storage.ILogReader reader, string passphrase) => new(Derived(passphrase).State, reader);

    /// <summary>
    /// Runs <paramref name="read"/> with a checking authority when SIOS_KEY_PASSPHRASE is set, or with none (saying on
    /// stderr that the files are read unchecked) when it is not: for commands that only read the key and brain files.
    /// </summary>
    public async Task<T> WithStateCheckAsync<T>(Func<StateFileAuthority?, T> read, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(KeyPassphrase.EnvironmentVariable)))
        {
            Notice.Write($"note: the key and brain files are read unchecked; set {KeyPassphrase.EnvironmentVariable} to check them against their MACs and the log");
            return read(null);
        }

        var passphrase = KeyPassphrase.FromEnvironment();
        var reader = OpenReader();
        await using (reader.ConfigureAwait(false))
        {
            ct.ThrowIfCancellationRequested();
            return read(CheckingAuthority(reader, passphrase));
        }
    }

    /// <summary>
    /// Checks the key and brain files against their MACs and <paramref name="reader"/>'s log: the refusal that makes
    /// sios refuse them (null when they pass), after telling on stderr of any lag corrected from the log.
    /// </summary>
    public string? StateProblem(Ledger.Storage.ILogReader reader, string passphrase)
    {
        var notes = new List<string>();
        var authority = new StateFileAuthority(Derived(passphrase).State, reader) { Refused = (_, problem) => notes.Add(problem) };
        try
        {
            _ = ApiKeys(authority).List();
            _ = Brains(authority: authority).List();
            return null;
        }
        catch (StateFileException e)
        {
            notes.Remove(e.Message);
            return e.Message;
        }
        finally
        {
            foreach (var note in notes)
            {
                Notice.Write($"note: {note}");
            }
        }
    }

    /// <summary>The API key store, authenticated by <paramref name="authority"/> when given; shared by every node of a shared store.</summary>
    public ApiKeyStore ApiKeys(StateFileAuthority? authority = null) => new(ApiKeysDocument) { Authority = authority };

    /// <summary>
    /// The brain registry (read-only without a <paramref name="sealer"/>), authenticated by <paramref name="authority"/>
    /// when given; shared by every node of a shared store, each of which hashes its own copy of the weights against its pins.
    /// </summary>
    public BrainRegistry Brains(EntrySealer? sealer = null, StateFileAuthority? authority = null) => new(BrainsDocument, sealer) { Authority = authority };

    /// <summary>Where the API keys are kept: <c>keys/api-keys.json</c>, or the shared store's row.</summary>
    public IStateDocument ApiKeysDocument => Config.Store is null ? new FileStateDocument(ApiKeysPath) : LogStores.SharedState(Config.Store, "api-keys");

    /// <summary>Where the brain registry is kept: <c>brains.json</c>, or the shared store's row.</summary>
    public IStateDocument BrainsDocument => Config.Store is null ? BrainRegistry.FileDocument(Path) : LogStores.SharedState(Config.Store, "brains");

    // The master secret is decrypted once per command (PBKDF2 at 600,000 iterations is the slow part of every start).
    private (byte[] Tail, byte[] State) Derived(string passphrase)
    {
        if (_derived is { } cached && string.Equals(cached.Passphrase, passphrase, StringComparison.Ordinal))
        {
            return (cached.Tail, cached.State);
        }

        using var master = LoadMasterSecret(passphrase);
        var derived = (passphrase, master.DeriveKey(TailSeals.KeyPurpose), master.DeriveKey(StateFileAuthority.KeyPurpose));
        _derived = derived;
        return (derived.Item2, derived.Item3);
    }

    /// <summary>
    /// Opens the log for appending with <paramref name="signer"/> (owned from here on) and the tail seal key; the caller
    /// holds the keys lock.
    /// </summary>
    public async Task<TransparencyLog> OpenLogWithAsync(LogSigner signer, byte[] tailKey, CancellationToken ct, bool sole = false)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var store = LogStores.Open(Path, Config.Store);
        TransparencyLog log;
        try
        {
            var options = new TransparencyLogOptions { Published = RollbackGuard.Recorder(PublishedCheckpointPath), TailKey = tailKey, SoleWriter = sole };
            log = await TransparencyLog.OpenAsync(store, signer, options, ct).ConfigureAwait(false);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            signer.Dispose();
            throw;
        }

        try
        {
            await RollbackGuard.CheckAndRecordAsync(PublishedCheckpointPath, log, ct).ConfigureAwait(false);
            return log;
        }
        catch
        {
            await log.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string ReadText(string file)
    {
        if (!File.Exists(file))
        {
            throw new NodeException($"{file} is missing from the data folder");
        }

        return File.ReadAllText(file);
    }

    private static void CreatePrivateDirectory(string path) => DurableFile.CreateDirectory(path);

    // The folder is built beside its final name and renamed into place, so a file already there is a defect, not a race.
    private static void WritePrivate(string path, string content)
    {
        if (!DurableFile.TryCreate(path, System.Text.Encoding.UTF8.GetBytes(content)))
        {
            throw new IOException($"{path} already exists");
        }
    }
}

/// <summary>The contents of sios.json.</summary>
internal sealed class DataConfig
{
    public int Format { get; init; }

    public string Origin { get; init; } = "";

    public DateTimeOffset Created { get; init; }

    /// <summary>Days the content vault keeps answered requests and responses for disclosure; 0 (the default) keeps nothing.</summary>
    public int VaultRetentionDays { get; init; }

    /// <summary>Where the log lives when not in log/log.db: a PostgreSQL URL without secrets (<see cref="LogStores"/>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Store { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DataConfig))]
internal sealed partial class DataConfigJson : JsonSerializerContext;
