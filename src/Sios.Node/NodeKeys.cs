using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Durable;
using Sios.Ledger.Entries;
using Sios.Ledger.Storage;
using Sios.Signing;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Verify.Rotation;

namespace Sios.Node;

/// <summary>What a signer rotation did: the new vkeys, the signer.rotated entry and the checkpoint over it, and where the old keys went.</summary>
internal sealed record RotationDone(IReadOnlyList<VerifierKey> NewKeys, long Index, long CheckpointSize, string Retired);

/// <summary>What adding the Ed25519 log key did: its vkey, the signer.added entry and the first checkpoint it signed.</summary>
internal sealed record AdditionDone(VerifierKey Key, long Index, long CheckpointSize);

/// <summary>
/// The log's own keys through their life: rotation to a new ML-DSA pair (sealed under a checkpoint both pairs sign), the
/// addition of an Ed25519 key (sealed under the first checkpoint it signs), and a change of the passphrase that protects them at rest, each all or nothing across a crash (see <see cref="SignerKeyFiles"/>).
/// </summary>
internal static class NodeKeys
{
    /// <summary>
    /// Rotates the signer: recovers under the current keys, stages a new pair, seals <c>signer.rotated</c> under a
    /// checkpoint signed by old and new keys, then moves the old keys to <c>keys/retired/N</c>. Refused while another
    /// process holds the log (<see cref="LogInUseException"/>).
    /// </summary>
    public static async Task<RotationDone> RotateSignerAsync(DataFolder folder, string passphrase, CancellationToken ct)
    {
        var files = folder.KeyFiles;
        var tailKey = folder.LoadTailKey(passphrase);
        using (files.Lock())
        {
            files.ResolvePending();
            var oldKeys = folder.LoadVerifierKeys();
            try
            {
                // Recover under the current keys alone first, so the four-key signer signs nothing but the rotation.
                await (await folder.OpenLogWithAsync(folder.LoadSigner(passphrase), tailKey, ct, sole: true).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (LogInUseException e)
            {
                throw new LogInUseException($"{e.Message}; stop 'sios serve' before 'sios key rotate-signer' (rotating while serving is not supported)", e);
            }

            var next65 = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65);
            var next44 = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
            LogSigner signer;
            try
            {
                files.StageRotation(next65, next44, passphrase);
                FaultPoint.Reach("rotate:staged");
                // The Ed25519 key is no part of the pair being replaced: it signs the rotation's checkpoint and every later one.
                signer = new LogSigner(folder.Config.Origin, folder.LoadPrivateKey(MlDsaAlgorithm.MlDsa65, passphrase), folder.LoadPrivateKey(MlDsaAlgorithm.MlDsa44, passphrase), next65, next44,
                    ed25519: folder.LoadEd25519PrivateKey(passphrase));
            }
            catch
            {
                next65.Dispose();
                next44.Dispose();
                throw;
            }

            var newKeys = signer.SuccessorKeys;
            var log = await folder.OpenLogWithAsync(signer, tailKey, ct, sole: true).ConfigureAwait(false);
            long index, size;
            await using (log.ConfigureAwait(false))
            {
                var sealedAt = await log.AppendAsync(SignerRotatedEntries.Write(oldKeys, newKeys), ct).ConfigureAwait(false);
                FaultPoint.Reach("rotate:sealed");
                (index, size) = (sealedAt.Index, sealedAt.Checkpoint.Size);
            }

            files.FinishRotation();
            return new RotationDone(newKeys, index, size, files.RetiredGenerations()[^1]);
        }
    }

    /// <summary>
    /// Adds an Ed25519 log key: recovers under the current keys, stages the new key, seals <c>signer.added</c> under the
    /// first checkpoint it signs, then moves its files into keys/. Refused when the log has one, and while another
    /// process holds the log (<see cref="LogInUseException"/>).
    /// </summary>
    public static async Task<AdditionDone> AddEd25519Async(DataFolder folder, string passphrase, CancellationToken ct)
    {
        var files = folder.KeyFiles;
        var tailKey = folder.LoadTailKey(passphrase);
        using (files.Lock())
        {
            files.ResolvePending();
            if (folder.LoadEd25519VerifierKey() is { } existing)
            {
                throw new NodeException($"the log already has an Ed25519 key ({existing}); a log has at most one", NodeFailure.Usage);
            }

            try
            {
                // Recover under the current keys alone first, so the new key signs nothing the log sealed before signer.added.
                await (await folder.OpenLogWithAsync(folder.LoadSigner(passphrase), tailKey, ct, sole: true).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (LogInUseException e)
            {
                throw new LogInUseException($"{e.Message}; stop 'sios serve' before 'sios key add-ed25519' (adding a signing key while serving is not supported)", e);
            }

            var key = Ed25519PrivateKey.Generate();
            LogSigner signer;
            try
            {
                files.StageAddition(key, passphrase);
                FaultPoint.Reach("add:staged");
                signer = new LogSigner(folder.Config.Origin, folder.LoadPrivateKey(MlDsaAlgorithm.MlDsa65, passphrase), folder.LoadPrivateKey(MlDsaAlgorithm.MlDsa44, passphrase), ed25519: key);
            }
            catch
            {
                key.Dispose();
                throw;
            }

            var vkey = signer.Ed25519Key!;
            var log = await folder.OpenLogWithAsync(signer, tailKey, ct, sole: true).ConfigureAwait(false);
            long index, size;
            await using (log.ConfigureAwait(false))
            {
                var sealedAt = await log.AppendAsync(new SignerAddedEntry(vkey).Write(), ct).ConfigureAwait(false);
                FaultPoint.Reach("add:sealed");
                (index, size) = (sealedAt.Index, sealedAt.Checkpoint.Size);
            }

            files.FinishAddition();
            return new AdditionDone(vkey, index, size);
        }
    }

    /// <summary>
    /// Re-encrypts every private key (current and retired) and the master secret from <paramref name="oldPassphrase"/> to
    /// <paramref name="newPassphrase"/>, all or nothing; returns the files re-encrypted (full paths).
    /// </summary>
    public static IReadOnlyList<string> ChangePassphrase(DataFolder folder, string oldPassphrase, string newPassphrase)
    {
        var files = folder.KeyFiles;
        using (files.Lock())
        {
            files.ResolvePending();
            var staged = new List<(string Relative, byte[] Content)>();
            foreach (var relative in PrivateKeyFiles(files))
            {
                staged.Add((relative, Reencrypt(Path.Combine(files.KeysPath, relative), oldPassphrase, newPassphrase)));
            }

            files.StagePassphraseChange(staged);
            FaultPoint.Reach("passphrase:committed");
            files.FinishPassphraseChange();
            return [.. staged.Select(s => Path.Combine(files.KeysPath, s.Relative))];
        }
    }

    /// <summary>Every private key file, relative to keys/: the current pair, the Ed25519 key and master.key (once they exist), and each retired pair still kept.</summary>
    private static List<string> PrivateKeyFiles(SignerKeyFiles files)
    {
        var list = new List<string> { SignerKeyFiles.FileNames[0], SignerKeyFiles.FileNames[1] };
        if (File.Exists(Path.Combine(files.KeysPath, SignerKeyFiles.Ed25519PrivateName)))
        {
            list.Add(SignerKeyFiles.Ed25519PrivateName);
        }

        if (File.Exists(Path.Combine(files.KeysPath, "master.key")))
        {
            list.Add("master.key");
        }

        foreach (var generation in files.RetiredGenerations())
        {
            list.AddRange(SignerKeyFiles.FileNames.Take(2)
                .Where(name => File.Exists(Path.Combine(generation, name)))
                .Select(name => Path.GetRelativePath(files.KeysPath, Path.Combine(generation, name))));
        }

        return list;
    }

    private static byte[] Reencrypt(string file, string oldPassphrase, string newPassphrase)
    {
        var text = File.ReadAllText(file);
        try
        {
            if (string.Equals(Path.GetFileName(file), "master.key", StringComparison.Ordinal))
            {
                using var master = MasterSecret.Import(text, oldPassphrase);
                return Encoding.UTF8.GetBytes(master.Export(newPassphrase));
            }

            if (string.Equals(Path.GetFileName(file), SignerKeyFiles.Ed25519PrivateName, StringComparison.Ordinal))
            {
                using var ed25519 = Ed25519PrivateKey.ImportEncryptedPem(text, oldPassphrase);
                return Encoding.UTF8.GetBytes(ed25519.ExportEncryptedPem(newPassphrase));
            }

            using var key = MlDsaPrivateKey.ImportEncryptedPem(text, oldPassphrase);
            return Encoding.UTF8.GetBytes(key.ExportEncryptedPem(newPassphrase));
        }
        catch (KeyPassphraseException)
        {
            throw new NodeException($"SIOS_KEY_PASSPHRASE does not open {file}: wrong passphrase, or the file is damaged; nothing was changed");
        }
        catch (KeyFormatException e)
        {
            throw new NodeException($"{file} is not a usable key file ({e.Message}); nothing was changed");
        }
    }
}
