using System.CommandLine;
using Sios.Cli.Commands;
using Sios.Cli.Hosting;
using Sios.Node;
using Sios.Ledger.Pipeline;
using Sios.Ledger.Storage;
using Sios.Signing;

var root = new RootCommand($"""
    sios — the Sovereign Intelligence Operating System.
    Brains (local models pinned by digest), keys and the Open Audit Record (a post-quantum ML-DSA transparency log)
    held on your own machine; an OpenAI-compatible gateway where every answer is sealed and carries a receipt.

    {ExitCodes.Help}
    """)
{
    CommonOptions.Data,
    InitCommand.Create(),
    KeyCommands.Create(),
    LogCommands.Create(),
    VerifyCommands.Create(),
    DemoCommand.Create(),
    BrainCommands.Create(),
    ServeCommand.Create(),
    AttestCommand.Create(),
    ReportCommand.Create(),
    StateCommands.Create(),
    WitnessCommands.Create(),
};

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    var parse = root.Parse(args);
    if (parse.Errors.Count > 0)
    {
        foreach (var error in parse.Errors)
        {
            Console.Error.WriteLine($"sios: {error.Message}");
        }

        Console.Error.WriteLine($"Run '{string.Join(' ', ["sios", .. CommandPath(parse)])} --help' for usage.");
        return ExitCodes.Usage;
    }

    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancel.Token);
}
catch (Exception e) when (ExitCodeFor(e) is { } code)
{
    // User-facing failures: one line on stderr, the documented exit code, never a stack trace.
    Console.Error.WriteLine(e switch
    {
        LogIntegrityException or Sios.Ledger.State.StateFileException => $"sios: refusing to run: {e.Message}",
        OperationCanceledException => "sios: cancelled",
        _ => $"sios: {e.Message}",
    });
    return code;
}
catch (Exception e)
{
    // A defect, not a user error: say so plainly; the stack trace only on request, never by default.
    Console.Error.WriteLine($"sios: internal error ({e.GetType().Name}): {e.Message}");
    if (Environment.GetEnvironmentVariable("SIOS_DEBUG") == "1")
    {
        Console.Error.WriteLine(e);
    }

    return ExitCodes.Failed;
}

static int? ExitCodeFor(Exception e) => e switch
{
    CliException cli => cli.ExitCode,
    NodeException node => node.Failure switch
    {
        NodeFailure.Usage => ExitCodes.Usage,
        NodeFailure.Integrity => ExitCodes.Integrity,
        NodeFailure.Invalid => ExitCodes.Invalid,
        _ => ExitCodes.Failed,
    },
    LogInUseException => ExitCodes.InUse,
    LogIntegrityException or Sios.Ledger.State.StateFileException => ExitCodes.Integrity,
    KeyPassphraseException or OperationCanceledException or IOException or UnauthorizedAccessException
        or InvalidOperationException or LogFailedException or System.Data.Common.DbException or TimeoutException or Sios.Ledger.State.StateUnavailableException => ExitCodes.Failed,
    _ => null,
};

static IEnumerable<string> CommandPath(ParseResult parse)
{
    var names = new List<string>();
    for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
    {
        names.Insert(0, result.Command.Name);
    }

    return names;
}
