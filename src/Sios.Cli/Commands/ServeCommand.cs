using System.CommandLine;
using Microsoft.Extensions.Logging;
using Sios.Brains.Engines;
using Sios.Brains.Pool;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Server.Hosting;

namespace Sios.Cli.Commands;


/// <summary><c>sios serve</c>: the OpenAI-compatible gateway over this data folder.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Addresses to listen on, comma-separated or repeated (default {SiosServerOptions.DefaultUrl}: loopback only; port 0 picks a free port)",
            HelpName = "URL",
            AllowMultipleArgumentsPerToken = true,
        };
        var maxBody = new Option<long?>("--max-request-bytes") { Description = "Largest request body accepted, in bytes (default 4194304)", HelpName = "N" };
        var timeout = new Option<int?>("--request-timeout") { Description = "Longest one inference request may take, in seconds (default 600)", HelpName = "SECONDS" };
        var headersTimeout = new Option<int?>("--headers-timeout") { Description = "Longest a client may take to send its request headers, in seconds (default 30); slower ones are cut off", HelpName = "SECONDS" };
        var maxLoaded = new Option<int?>("--max-loaded") { Description = "Most brains held in memory at once (default 8)", HelpName = "N" };
        var budget = new Option<long?>("--memory-budget-mib") { Description = "Memory the loaded brains' weights may take, in MiB (default 8192)", HelpName = "MIB" };
        var parallel = new Option<int?>("--parallel") { Description = "Requests one brain decodes together (default 4)", HelpName = "N" };
        var egress = new Option<string[]>("--egress")
        {
            Description = "A host (IP address or name) that upstream brains may be reached at; repeat for more. Nothing else is ever connected to",
            HelpName = "HOST",
        };
        var offline = new Option<bool>("--offline") { Description = "Allow no outbound connection at all (the default when no --egress is given; with it, --egress is an error)" };
        var cors = CorsOriginOption("A web origin (scheme://host[:port], e.g. https://app.example.com) whose pages may call the API from a browser; repeat for more. None by default: browser apps on other origins are refused");
        var witness = WitnessOptions.Create("A c2sp.org/tlog-policy file naming witnesses (with their URLs) and a quorum: the newest checkpoint is offered to them at an interval, and /log/checkpoint serves the newest one the quorum cosigned. Each witness host must be allowed with --egress");
        var tsa = new Option<string?>("--tsa")
        {
            Description = "An RFC 3161 time-stamp authority (http:// or https:// URL): at an interval the published checkpoint gets a token over SHA-256 of its note text, kept in log/timestamps and served at /log/timestamps/SIZE (queried again while the TSA is unreachable). Its host must be allowed with --egress",
            HelpName = "URL",
        };
        var tsaInterval = new Option<int?>("--tsa-interval") { Description = "Least seconds between two queries to the TSA (default 60); a checkpoint published meanwhile waits, and only the newest is stamped", HelpName = "SECONDS" };
        var verbose = new Option<bool>("--verbose") { Description = "Log every request's outcome, not only warnings and errors" };
        var command = new Command("serve", """
            Serve the OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models), the log
            (/log/checkpoint, /log/tile/..., /log/receipts/N, /log/timestamps/SIZE), /healthz and /metrics. Every answer
            is sealed into the log before it is sent, with its receipt headers; if it cannot be sealed the client gets a 503.
            Needs SIOS_KEY_PASSPHRASE. Seals system.started on start and system.stopped on Ctrl+C / SIGTERM, after
            in-flight requests have drained. Prints the bound address(es) on stdout once serving; logs go to stderr.
            Key changes ('sios key create|revoke') reach a running server through its control socket.
            With vaultRetentionDays > 0 in sios.json, each answer's exact bytes are kept encrypted for that many days
            for 'sios log disclose'; expired content is purged (sealed as vault.purged) at start and daily.
            With --witness-policy, a witness that refuses a checkpoint (a fork, a rollback, a bad proof, an unknown log
            or key) is sealed as witness.refused and shown in /healthz and /metrics; answers never wait for witnesses.
            With --tsa, a token from /log/timestamps/SIZE dates a receipt whose checkpoint has that size:
            'sios verify receipt FILE --tsa-cert PEM --timestamp TOKEN'. Answers never wait for the TSA either.
            """) { urls, maxBody, timeout, headersTimeout, maxLoaded, budget, parallel, egress, offline, cors, witness.Policy, witness.Interval, witness.Timeout, tsa, tsaInterval, verbose };
        command.SetAction(async (parse, ct) =>
        {
            var data = CommonOptions.OpenData(parse);
            if (parse.GetValue(offline) && Split(parse.GetValue(egress)).Count > 0)
            {
                throw new CliException("--offline allows no outbound connection: drop --egress, or --offline", ExitCodes.Usage);
            }

            var passphrase = CommonOptions.Passphrase();
            var server = new SiosServerOptions
            {
                Urls = Split(parse.GetValue(urls)) is { Count: > 0 } list ? list : [SiosServerOptions.DefaultUrl],
                MaxRequestBodyBytes = parse.GetValue(maxBody) ?? 4 << 20,
                RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout) ?? 600),
                HeadersTimeout = TimeSpan.FromSeconds(parse.GetValue(headersTimeout) ?? 30),
                ControlSocketPath = data.ControlSocketPath,
                CorsOrigins = CorsOrigins(parse, cors),
            };
            var pool = new BrainPoolOptions
            {
                MaxLoaded = parse.GetValue(maxLoaded) ?? 8,
                MemoryBudgetBytes = (parse.GetValue(budget) ?? 8192) << 20,
                Engine = new LlamaEngineOptions { MaxParallel = parse.GetValue(parallel) ?? 4 },
                Egress = NodeHost.AllowList(Split(parse.GetValue(egress))),
            };
            var settings = new ServeSettings(server, pool, parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning)
            {
                Witnessing = witness.Read(parse),
                Timestamping = parse.GetValue(tsa) is { } tsaUrl
                    ? new TimestampSettings(TsaUrl(tsaUrl), TimeSpan.FromSeconds(Seconds(parse.GetValue(tsaInterval) ?? 60, "--tsa-interval", 86400)))
                    : null,
            };
            await NodeHost.ServeAsync(data, passphrase, settings, started => Terminal.Result(string.Join(' ', started.Addresses)), ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Uri TsaUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"--tsa must be an http:// or https:// URL, not '{value}'", ExitCodes.Usage);
        }

        // The URL is printed at start and hashed into the config digest: a password does not belong in it, nor in this message.
        return url.UserInfo.Length == 0 ? url : throw new CliException("--tsa must be a URL without credentials (user:password@)", ExitCodes.Usage);
    }

    internal static int Seconds(int value, string option, int max) =>
        value is >= 1 and var v && v <= max ? v : throw new CliException($"{option} must be 1 to {max} seconds, not {value}", ExitCodes.Usage);

    /// <summary><c>--cors-origin</c>, for serve and for the commands that state serve's config digest.</summary>
    internal static Option<string[]> CorsOriginOption(string description) => new("--cors-origin") { Description = description, HelpName = "ORIGIN" };

    /// <summary>The origins given, each once (they are checked when the server options are validated).</summary>
    internal static List<string> CorsOrigins(ParseResult parse, Option<string[]> option) => [.. Split(parse.GetValue(option)).Distinct(StringComparer.Ordinal)];

    /// <summary>serve's witnessing options, shared with the commands that state serve's config digest.</summary>
    internal sealed record WitnessOptions(Option<string?> Policy, Option<int?> Interval, Option<int?> Timeout)
    {
        public static WitnessOptions Create(string policyDescription) => new(
            new Option<string?>("--witness-policy") { Description = policyDescription, HelpName = "FILE" },
            new Option<int?>("--witness-interval") { Description = "Seconds between offers of the newest checkpoint to the witnesses (default 5)", HelpName = "SECONDS" },
            new Option<int?>("--witness-timeout") { Description = "Longest one witness may take to answer, in seconds (default 10)", HelpName = "SECONDS" });

        /// <summary>The settings given, or null without a policy.</summary>
        public WitnessSettings? Read(ParseResult parse) => parse.GetValue(Policy) is { } file
            ? new WitnessSettings(
                TrustOptions.LoadPolicy(file),
                TimeSpan.FromSeconds(Seconds(parse.GetValue(Interval) ?? 5, "--witness-interval", 3600)),
                TimeSpan.FromSeconds(Seconds(parse.GetValue(Timeout) ?? 10, "--witness-timeout", 300)))
            : null;
    }

    /// <summary>Option values, each possibly a comma-separated list, as one list.</summary>
    internal static List<string> Split(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

}
