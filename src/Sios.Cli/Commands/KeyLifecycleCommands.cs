using System.CommandLine;
using System.Globalization;
using System.Text;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Entries;
using Sios.Ledger.Proofs;
using Sios.Ledger.Storage;
using Sios.Signing;
using Sios.Verify.Crypto;
using Sios.Verify.Rotation;

namespace Sios.Cli.Commands;

/// <summary><c>sios key rotate-signer | add-ed25519 | export-public | passphrase</c>: the life cycle of the log's own keys.</summary>
internal static class KeyLifecycleCommands
{
    /// <summary>The variable holding the passphrase <c>sios key passphrase</c> changes to.</summary>
    public const string NewPassphraseVariable = "SIOS_NEW_KEY_PASSPHRASE";

    public static Command RotateSigner()
    {
        var command = new Command("rotate-signer", """
            Replace the log's signing keys with a new ML-DSA-65 + ML-DSA-44 pair. Seals signer.rotated (old and new
            vkeys) under a checkpoint signed by both the old and the new keys; later checkpoints carry the new keys'
            signatures only. The old key files are kept in keys/retired/N (delete the private ones there if you wish).
            Prints the new vkeys; give auditors 'sios key export-public', whose rotation statements let receipts from
            before and after verify from the original vkeys. Needs SIOS_KEY_PASSPHRASE (the new keys use it too).
            Not while 'sios serve' runs: stop the server first (exit 4 otherwise). An interrupted rotation is finished or
            undone by the next command that opens the log. An Ed25519 log key ('sios key add-ed25519') is not rotated: it
            is a separate key, and keeps signing every checkpoint, the rotation's included.
            """);
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            var done = await NodeKeys.RotateSignerAsync(folder, passphrase, ct).ConfigureAwait(false);
            foreach (var key in done.NewKeys)
            {
                Terminal.Result(key.ToString());
            }

            Terminal.Message($"rotated the signer: signer.rotated is entry {done.Index.ToString(CultureInfo.InvariantCulture)}, sealed under the checkpoint at size {done.CheckpointSize.ToString(CultureInfo.InvariantCulture)} signed by the old and the new keys; the old keys are in {done.Retired}. Hand auditors the output of 'sios key export-public'.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command AddEd25519()
    {
        var command = new Command("add-ed25519", """
            Give the log an Ed25519 signing key, for witnesses that accept only Ed25519 log keys: from now on every
            checkpoint carries a third signature line (type 0x01, key name = origin) after the ML-DSA-65 and ML-DSA-44
            ones, which stay, and stay required by verifiers. Seals signer.added (the new vkey) under the first
            checkpoint the key signs, and prints the vkey (give it to 'sios witness add-log' or any tlog-witness). The key
            is kept in keys/log-ed25519.pem, encrypted with SIOS_KEY_PASSPHRASE, beside keys/log-ed25519.vkey; a signer
            rotation leaves it as it is. Refused if the log has one already (exit 2). Not while 'sios serve' runs: stop
            the server first (exit 4 otherwise). An interrupted addition is finished or undone by the next command that
            opens the log.
            """);
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var passphrase = CommonOptions.Passphrase();
            var done = await NodeKeys.AddEd25519Async(folder, passphrase, ct).ConfigureAwait(false);
            Terminal.Result(done.Key.ToString());
            Terminal.Message($"added the Ed25519 log key: signer.added is entry {done.Index.ToString(CultureInfo.InvariantCulture)}, sealed under the checkpoint at size {done.CheckpointSize.ToString(CultureInfo.InvariantCulture)}, the first it signs.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command ExportPublic()
    {
        var outDir = new Option<string?>("--out")
        {
            Description = "Write the files into DIR (created if absent) instead of printing them: vkeys.txt, original-vkeys.txt, current/*.pub.pem (and current/log-ed25519.vkey), retired/N/*.pub.pem, rotation-N.tlog-proof",
            HelpName = "DIR",
        };
        var command = new Command("export-public", """
            Print what auditors need, and nothing secret: the current vkeys (the Ed25519 one last, if the log has one),
            the original vkeys, the SPKI PEM of every public key (current and retired; the Ed25519 key as its vkey
            file), and the rotation statements (the receipt of each signer.rotated entry,
            under its checkpoint signed by the old and the new keys), each section headed by a '# ' line. With the
            original vkeys and the statements, 'sios verify receipt --vkey V... --rotation FILE...' checks receipts from
            before and after every rotation. No passphrase needed; safe while a server runs.
            """) { outDir };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var files = folder.KeyFiles;
            var current = folder.LoadSigningKeys();
            SignerKeyChain chain;
            await using (var store = folder.OpenReader())
            {
                try
                {
                    chain = await RotationHistory.ReadAsync(store, files.ReadOriginalVerifierKeys(), ct).ConfigureAwait(false);
                }
                catch (Sios.Verify.VerificationException e)
                {
                    throw new CliException($"the log's signer rotations do not verify ({e.Message}); run 'sios log verify'", ExitCodes.Invalid);
                }

                if (!SignerKeyChain.SameKeys(chain.SigningKeys, current))
                {
                    throw new CliException("the public key files in keys/ are not the keys the log's signer rotations and additions lead to; run 'sios log verify'", ExitCodes.Invalid);
                }

                var statements = chain.Statements.Select(s => s.Receipt).ToList();

                var pems = new List<(string Name, string Pem)>();
                foreach (var name in new[] { SignerKeyFiles.FileName(MlDsaAlgorithm.MlDsa65, true), SignerKeyFiles.FileName(MlDsaAlgorithm.MlDsa44, true) })
                {
                    pems.Add(($"current/{name}", File.ReadAllText(Path.Combine(files.KeysPath, name))));
                    foreach (var generation in files.RetiredGenerations())
                    {
                        var file = Path.Combine(generation, name);
                        if (File.Exists(file))
                        {
                            pems.Add(($"retired/{Path.GetFileName(generation)}/{name}", File.ReadAllText(file)));
                        }
                    }
                }

                var ed25519 = Path.Combine(files.KeysPath, SignerKeyFiles.Ed25519PublicName);
                if (File.Exists(ed25519))
                {
                    pems.Add(($"current/{SignerKeyFiles.Ed25519PublicName}", File.ReadAllText(ed25519)));
                }

                Publish(parse.GetValue(outDir), chain, pems, statements);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Publish(string? outDir, SignerKeyChain chain, List<(string Name, string Pem)> pems, List<byte[]> statements)
    {
        var vkeys = string.Concat(chain.SigningKeys.Select(k => k + "\n"));
        var original = string.Concat(chain.OriginalKeys.Select(k => k + "\n"));
        if (outDir is null)
        {
            Terminal.Result("# current vkeys");
            Console.Out.Write(vkeys);
            Terminal.Result("# original vkeys");
            Console.Out.Write(original);
            foreach (var (name, pem) in pems.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                Terminal.Result($"# {name}");
                Console.Out.Write(pem.EndsWith('\n') ? pem : pem + "\n");
            }

            for (var i = 0; i < statements.Count; i++)
            {
                Terminal.Result($"# rotation-{(i + 1).ToString(CultureInfo.InvariantCulture)}.tlog-proof");
                Console.Out.Write(Encoding.UTF8.GetString(statements[i]));
            }

            return;
        }

        var written = new List<(string Name, byte[] Content)>
        {
            ("vkeys.txt", Encoding.UTF8.GetBytes(vkeys)),
            ("original-vkeys.txt", Encoding.UTF8.GetBytes(original)),
        };
        written.AddRange(pems.Select(p => (p.Name, Encoding.UTF8.GetBytes(p.Pem))));
        written.AddRange(statements.Select((s, i) => ($"rotation-{(i + 1).ToString(CultureInfo.InvariantCulture)}.tlog-proof", s)));
        foreach (var (name, content) in written)
        {
            var path = Path.Combine(outDir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, content);
            Terminal.Result(path);
        }
    }

    public static Command ChangePassphrase()
    {
        var command = new Command("passphrase", $"""
            Change the passphrase protecting the log's private keys (current and retired) and keys/master.key: each is
            decrypted with SIOS_KEY_PASSPHRASE and re-encrypted with {NewPassphraseVariable}, all or nothing (an
            interrupted change is completed by the next command). The keys and the master secret stay the same, so
            vkeys, receipts and commitment nonces are unchanged. Seals nothing: the passphrase guards files at rest and
            says nothing about the log. Prints the re-encrypted files. A running server keeps working; it needs the new
            passphrase when it restarts.
            """);
        command.SetAction(parse =>
        {
            var folder = CommonOptions.OpenData(parse);
            var oldPassphrase = CommonOptions.Passphrase();
            var newPassphrase = Environment.GetEnvironmentVariable(NewPassphraseVariable);
            if (string.IsNullOrEmpty(newPassphrase))
            {
                throw new CliException($"{NewPassphraseVariable} is not set: export it with the new passphrase", ExitCodes.Usage);
            }

            if (string.Equals(newPassphrase, oldPassphrase, StringComparison.Ordinal))
            {
                throw new CliException($"{NewPassphraseVariable} is the current passphrase; choose a different one", ExitCodes.Usage);
            }

            var changed = NodeKeys.ChangePassphrase(folder, oldPassphrase, newPassphrase);
            foreach (var file in changed)
            {
                Terminal.Result(file);
            }

            Terminal.Message($"re-encrypted {changed.Count.ToString(CultureInfo.InvariantCulture)} key files under the new passphrase; from now on set SIOS_KEY_PASSPHRASE to it");
            return ExitCodes.Ok;
        });
        return command;
    }
}
