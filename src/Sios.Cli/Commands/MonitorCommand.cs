using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Sios.Cli.Hosting;
using Sios.Ledger.Durable;
using Sios.Node;
using Sios.Verify;
using Sios.Verify.Audit;
using Sios.Verify.Monitoring;
using Sios.Verify.Notes;

namespace Sios.Cli.Commands;

/// <summary><c>sios log monitor URL</c>: follows a served log and stops loudly on a fork, a rollback or a bad entry.</summary>
internal static class MonitorCommand
{
    /// <summary>Where the API key comes from when no --api-key-file is given.</summary>
    public const string ApiKeyVariable = "SIOS_API_KEY";

    /// <summary>Largest API key file read: a key is a short token, never kilobytes.</summary>
    private const long MaxApiKeyBytes = 4096;

    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "The log's tlog-tiles prefix, e.g. https://sios.example/log/ (checkpoint and tile/ are under it)" };
        var state = new Option<string?>("--state")
        {
            Description = "Keep the last accepted checkpoint in FILE (written durably after each one) and start from it: the first checkpoint fetched must extend it",
            HelpName = "FILE",
        };
        var interval = new Option<int>("--interval") { Description = "Seconds between polls", DefaultValueFactory = _ => 10, HelpName = "SECONDS" };
        var once = new Option<bool>("--once") { Description = "Poll once and exit (0 accepted, 1 misbehaving, 3 unreachable)" };
        var apiKeyFile = new Option<string?>("--api-key-file")
        {
            Description = $"A file holding the API key sent as a bearer token (SIOS serves /log/ to auditor and admin keys); default ${ApiKeyVariable}",
            HelpName = "FILE",
        };
        var command = new Command("monitor", $"""
            Follow a log served over HTTP (c2sp.org/tlog-tiles): every poll fetches URL/checkpoint, verifies it under the
            vkeys (and rotation statements; with --policy, also its quorum of witness cosignatures), checks from the tiles alone that its tree extends the last accepted one,
            reads every new entry bundle, checks each entry's shape and that they hash to the signed root. The first
            checkpoint without --state is taken on trust, and every entry under it is checked. Prints 'ok SIZE ROOT' on
            stdout for each checkpoint accepted; everything else goes to stderr. On a rollback, a fork, an untrusted
            checkpoint or a bad entry it prints one line on stderr naming the origin and both checkpoints, and exits 1.
            An unreachable log is reported and retried at the next interval (a refused API key is not retried). Stops on
            Ctrl+C / SIGTERM with exit 0. Can run as a service beside a witness.
            Exit codes: 0 accepted (--once) or stopped; 1 the log misbehaved, or the state file does not verify under the
            vkeys; 2 usage error; 3 the log could not be read (with --once, or a refused API key), or the state file
            could not be written.
            """) { url, state, interval, once, apiKeyFile };
        var trustOptions = TrustOptions.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var prefix = ParseUrl(parse.GetValue(url)!);
            var seconds = parse.GetValue(interval);
            if (seconds < 1)
            {
                throw new CliException($"--interval must be at least 1 second (got {seconds.ToString(CultureInfo.InvariantCulture)})", ExitCodes.Usage);
            }

            if (trustOptions.Read(parse) is not { } chain)
            {
                return ExitCodes.Invalid;
            }

            // Through an allow-list of the one host given: no redirect, proxy or DNS answer can take the monitor elsewhere.
            using var http = new HttpClient(NodeHost.AllowList([prefix.IdnHost.Trim('[', ']')]).CreateHandler()) { Timeout = Timeout.InfiniteTimeSpan };
            var monitor = new LogMonitor(new HttpLogSource(http, prefix, ApiKey(parse.GetValue(apiKeyFile))), chain);
            var statePath = parse.GetValue(state);
            if (statePath is not null && File.Exists(statePath))
            {
                Resume(monitor, statePath);
            }

            // A service is stopped with SIGTERM; it must end as cleanly as on Ctrl+C, not die mid-write of its state.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
            {
                signal.Cancel = true;
                stop.Cancel();
            });
            try
            {
                return await RunAsync(monitor, statePath, TimeSpan.FromSeconds(seconds), parse.GetValue(once), stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Terminal.Message($"monitor stopped; last accepted {monitor.Latest?.ToString() ?? "nothing"}");
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(LogMonitor monitor, string? statePath, TimeSpan interval, bool once, CancellationToken ct)
    {
        MonitoredCheckpoint? printed = null;
        while (true)
        {
            MonitorResult result;
            try
            {
                result = await monitor.PollAsync(ct).ConfigureAwait(false);
            }
            catch (LogFetchException e)
            {
                Terminal.Message($"cannot read the log: {e.Message}{(once || !e.Transient ? "" : $"; retrying in {interval.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s")}");
                if (once || !e.Transient)
                {
                    return ExitCodes.Failed;
                }

                await Task.Delay(interval, ct).ConfigureAwait(false);
                continue;
            }

            if (!result.Accepted)
            {
                Terminal.Message(result.Describe());
                return ExitCodes.Invalid;
            }

            var current = result.Current!;
            if (result.Verdict == MonitorVerdict.Grew && statePath is not null)
            {
                DurableFile.Replace(statePath, current.Note);
            }

            if (printed is null || printed.Size != current.Size)
            {
                Terminal.Result($"ok {current.Size.ToString(CultureInfo.InvariantCulture)} {Convert.ToBase64String(current.Root)}");
                Terminal.Message($"{result.Describe()} ({result.EntriesChecked.ToString(CultureInfo.InvariantCulture)} new entries checked)");
                printed = current;
            }

            if (once)
            {
                return ExitCodes.Ok;
            }

            await Task.Delay(interval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Starts from the state file's checkpoint; one that does not verify is an error, never silently replaced.</summary>
    private static void Resume(LogMonitor monitor, string statePath)
    {
        var note = VerifyCommands.ReadInput(statePath, NoteLimits.Default.MaxNoteBytes, "checkpoint note");
        try
        {
            Terminal.Message($"resuming from {statePath}: {monitor.Resume(note)}");
        }
        catch (VerificationException e)
        {
            throw new CliException($"INVALID: the state file {statePath} does not verify under the given vkeys ({e.Message}); it is left as it is", ExitCodes.Invalid);
        }
    }

    private static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new CliException($"URL: '{text}' is not an http:// or https:// URL without query (the log's prefix, e.g. https://sios.example/log/)", ExitCodes.Usage);
        }

        return uri;
    }

    /// <summary>The API key from <paramref name="file"/>, else from SIOS_API_KEY, else none; never printed.</summary>
    private static string? ApiKey(string? file)
    {
        if (file is null)
        {
            return Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment.Trim() : null;
        }

        var key = System.Text.Encoding.UTF8.GetString(VerifyCommands.ReadInput(file, MaxApiKeyBytes, "API key file")).Trim();
        if (key.Length == 0 || key.Any(char.IsWhiteSpace))
        {
            throw new CliException($"--api-key-file: {file} must hold one API key on its own", ExitCodes.Usage);
        }

        return key;
    }
}
