using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sios.Brains.Registry;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Entries;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Server.Access;
using Sios.Server.Control;
using Sios.Verify;
using Sios.Verify.Entries;

namespace Sios.Cli.Commands;

/// <summary><c>sios key ...</c>: the log's signing keys, and the API keys the operator hands out.</summary>
internal static class KeyCommands
{
    public static Command Create() =>
        new("key", "Keys made and kept on this machine: the log's signing keys (vkeys) and the API keys clients present (create, list, revoke).")
        {
            Vkeys(), CreateKey(), ListKeys(), RevokeKey(), KeyLifecycleCommands.RotateSigner(), KeyLifecycleCommands.AddEd25519(), KeyLifecycleCommands.ExportPublic(), KeyLifecycleCommands.ChangePassphrase(),
        };

    private static Command Vkeys()
    {
        var vkeys = new Command("vkeys", "Print the log's verifier keys, one per line: the ML-DSA-65 vkey, then the ML-DSA-44 cosignature vkey, then the Ed25519 vkey if the log has one. No passphrase needed.");
        vkeys.SetAction(parse =>
        {
            foreach (var key in CommonOptions.OpenData(parse).LoadSigningKeys())
            {
                Terminal.Result(key.ToString());
            }

            return ExitCodes.Ok;
        });
        return vkeys;
    }

    private static Argument<string> NameArgument(string description) => new("NAME") { Description = description };

    private static Option<int?> LimitOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = r =>
        {
            var token = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
            {
                r.AddError($"{name} must be a whole number, 1 or more (got '{token}')");
                return null;
            }

            return value;
        },
    };

    private static Command CreateKey()
    {
        var name = NameArgument("The key's name: 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit; unique among live keys");
        var brains = new Option<string>("--brains")
        {
            Description = "The brains the key may use: registered brain names separated by commas, or '*' for every brain",
            Required = true,
            HelpName = "a,b|*",
        };
        var role = new Option<string>("--role")
        {
            Description = "user: inference on its brains; auditor: also reads the whole log (/log/); admin: everything an auditor may",
            DefaultValueFactory = _ => "user",
            HelpName = "user|auditor|admin",
        };
        role.AcceptOnlyFromAmong([.. ApiKeyRoleNames.All]);
        var rpm = LimitOption("--rpm", "Requests per minute allowed to this key (429 with Retry-After beyond it)");
        var tpm = LimitOption("--tpm", "Tokens per minute allowed to this key (429 with Retry-After beyond it)");
        var command = new Command("create", """
            Create an API key and print its secret, alone on stdout: it is shown this once and stored only as a SHA-256
            hash. Seals key.created (id, name, role, brains; never the secret) before the key works. Needs
            SIOS_KEY_PASSPHRASE. While a server holds the log, the key is made through its control socket.
            """) { name, brains, role, rpm, tpm };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var keyName = parse.GetValue(name)!;
            var keyRole = ApiKeyRoleNames.Parse(parse.GetValue(role));
            var scope = ParseScope(folder, parse.GetValue(brains)!);
            var (keyRpm, keyTpm) = (parse.GetValue(rpm), parse.GetValue(tpm));
            var passphrase = CommonOptions.Passphrase();
            // Checked before the passphrase is spent: a bad name or a taken one fails at once, nothing sealed.
            _ = Keys(() => folder.ApiKeys().Prepare(keyName, keyRole, scope, keyRpm, keyTpm));

            var (log, inUse) = await ControlClient.OpenLogOrFindHolderAsync(folder, passphrase, ct).ConfigureAwait(false);
            if (log is null)
            {
                using var control = new ControlClient(folder.ControlSocketPath);
                var (id, served) = await control.AskAsync(inUse!, c => c.CreateKeyAsync(keyName, keyRole, scope, keyRpm, keyTpm, ct)).ConfigureAwait(false);
                Terminal.Result(served);
                Terminal.Message($"created API key '{keyName}' (id {id}) through the running server, which sealed key.created. The secret above is shown only once.");
                return ExitCodes.Ok;
            }

            await using (log.ConfigureAwait(false))
            {
                var actions = new OperatorActions(log, folder.ApiKeys(folder.Authority(log, passphrase)));
                var created = await Keys(() => actions.CreateKeyAsync(keyName, keyRole, scope, keyRpm, keyTpm, ct)).ConfigureAwait(false);
                Terminal.Result(created.Secret);
                Terminal.Message($"created API key '{keyName}' (id {created.Key.Id}, role {ApiKeyRoleNames.ToName(keyRole)}, brains {string.Join(',', scope)}); sealed key.created as entry {created.Index.ToString(CultureInfo.InvariantCulture)}. The secret above is shown only once.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListKeys()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of tab-separated lines" };
        var command = new Command("list", """
            List the API keys, live and revoked, one per line: name, id, role, brains, created, revoked ('-' while live),
            tab-separated. Never prints secrets or their hashes. With SIOS_KEY_PASSPHRASE set, the key file is first
            checked against its MAC and the log (a forged or rolled-back file exits 5); without it, the file is listed
            unchecked, and stderr says so.
            """) { json };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var keys = await folder.WithStateCheckAsync(authority => Keys(() => folder.ApiKeys(authority).List()), ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var listed = keys.Select(k => new ListedKey(k.Name, k.Id, ApiKeyRoleNames.ToName(k.Role), k.Brains, k.Created, k.Revoked, k.Rpm, k.Tpm)).ToList();
                Terminal.Result(JsonSerializer.Serialize(listed, ListedKeyJson.Default.ListListedKey));
                return ExitCodes.Ok;
            }

            foreach (var k in keys)
            {
                Terminal.Result(string.Join('\t', k.Name, k.Id, ApiKeyRoleNames.ToName(k.Role), string.Join(',', k.Brains),
                    EntryJson.FormatTime(k.Created), k.Revoked is { } revoked ? EntryJson.FormatTime(revoked) : "-"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RevokeKey()
    {
        var name = NameArgument("The live key to revoke");
        var command = new Command("revoke", """
            Revoke the live API key NAME: seals key.revoked, then marks the key revoked; a running server refuses it from
            its next request. Prints the revoked key's id. Needs SIOS_KEY_PASSPHRASE. While a server holds the log, the
            key is revoked through its control socket.
            """) { name };
        command.SetAction(async (parse, ct) =>
        {
            var folder = CommonOptions.OpenData(parse);
            var keyName = parse.GetValue(name)!;
            var passphrase = CommonOptions.Passphrase();
            var key = Keys(() => folder.ApiKeys().Find(keyName))
                ?? throw new CliException($"no live API key is named '{keyName}' (see 'sios key list')", ExitCodes.Usage);

            var (log, inUse) = await ControlClient.OpenLogOrFindHolderAsync(folder, passphrase, ct).ConfigureAwait(false);
            if (log is null)
            {
                using var control = new ControlClient(folder.ControlSocketPath);
                var id = await control.AskAsync(inUse!, c => c.RevokeKeyAsync(keyName, ct)).ConfigureAwait(false);
                Terminal.Result(id);
                Terminal.Message($"revoked API key '{keyName}' (id {id}) through the running server, which sealed key.revoked");
                return ExitCodes.Ok;
            }

            await using (log.ConfigureAwait(false))
            {
                // Seal first, then revoke: should the revocation fail, the key is still live and running this again
                // seals a second key.revoked and revokes it; the other order could leave a revocation never sealed.
                var actions = new OperatorActions(log, folder.ApiKeys(folder.Authority(log, passphrase)));
                var (revoked, index) = await Keys(() => actions.RevokeKeyAsync(keyName, ct)).ConfigureAwait(false);
                Terminal.Result(revoked.Id);
                Terminal.Message($"revoked API key '{keyName}' (id {revoked.Id}); sealed key.revoked as entry {index.ToString(CultureInfo.InvariantCulture)}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>'*' alone, or registered brain names: a key for a brain nobody registered is more likely a typo than a plan.</summary>
    private static string[] ParseScope(DataFolder folder, string text)
    {
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0)
        {
            throw new CliException("--brains names no brain: give brain names separated by commas, or '*' for every brain", ExitCodes.Usage);
        }

        if (names.Contains(ApiPrincipal.AllBrains, StringComparer.Ordinal))
        {
            return names.Length == 1
                ? names
                : throw new CliException("--brains: '*' already means every brain; give it alone", ExitCodes.Usage);
        }

        BrainRegistry registry = new(folder.Path);
        try
        {
            var unknown = names.Where(n => registry.Find(n) is null).ToList();
            if (unknown.Count > 0)
            {
                throw new CliException($"--brains: no brain named {string.Join(", ", unknown.Select(n => $"'{n}'"))} is registered (see 'sios brain list'; register with 'sios brain add')", ExitCodes.Usage);
            }
        }
        catch (FormatViolationException e)
        {
            throw new CliException(e.Message);
        }

        return names;
    }

    /// <summary>Turns the key store's typed failures into the CLI's exit codes.</summary>
    private static T Keys<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (ApiKeyException e)
        {
            throw new CliException(e.Message, ExitCodes.Usage);
        }
        catch (Exception e) when (e is FormatViolationException or OperatorActionException)
        {
            throw new CliException(e.Message);
        }
    }

    private static async Task<T> Keys<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ApiKeyException e)
        {
            throw new CliException(e.Message, ExitCodes.Usage);
        }
        catch (Exception e) when (e is FormatViolationException or OperatorActionException)
        {
            throw new CliException(e.Message);
        }
    }
}

/// <summary>One key as <c>sios key list --json</c> prints it: never the secret nor its hash.</summary>
internal sealed record ListedKey(string Name, string Id, string Role, IReadOnlyList<string> Brains, DateTimeOffset Created, DateTimeOffset? Revoked, int? Rpm, int? Tpm);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<ListedKey>))]
internal sealed partial class ListedKeyJson : JsonSerializerContext;
