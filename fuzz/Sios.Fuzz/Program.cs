using SharpFuzz;
using Sios.Fuzz;

// Usage (fuzz/run drives it; messages go to stderr, stdout stays for AFL and the script):
//   Sios.Fuzz list                                  the target names, one a line
//   Sios.Fuzz seeds <dir>                           writes <dir>/<target>/* seed corpora and <dir>/keys/*.vkeys
//   Sios.Fuzz fuzz <target> <keys-dir>              the target under afl-fuzz (run as 'dotnet Sios.Fuzz.dll ...')
//   Sios.Fuzz replay <target> <keys-dir> <file>...  runs inputs once; exit 1 and the exception for any crash
try
{
    return args switch
    {
        ["list"] => List(),
        ["seeds", var dir] => WriteSeeds(dir),
        ["fuzz", var target, var keys] => Fuzz(() => Targets.Get(target, TrustedKeys.Load(keys))),
        ["replay", var target, var keys, .. var files] when files.Length > 0 => Replay(Targets.Get(target, TrustedKeys.Load(keys)), files),
        _ => Usage(),
    };
}
catch (Exception e) when (e is ArgumentException or IOException)
{
    Console.Error.WriteLine($"Sios.Fuzz: {e.Message}");
    return 2;
}

static int List()
{
    foreach (var name in Targets.Names)
    {
        Console.WriteLine(name);
    }

    return 0;
}

static int WriteSeeds(string dir)
{
    Seeds.Write(dir);
    Console.Error.WriteLine($"Sios.Fuzz: seed corpora for {Targets.Names.Count} targets written to {dir}");
    return 0;
}

static int Fuzz(Func<Action<byte[]>> create)
{
    // Instrumented code may only run once SharpFuzz has mapped AFL's coverage map, that is inside Fuzzer.Run: so the
    // target (which parses the trusted vkeys) is built on the first execution, which SharpFuzz runs and discards.
    // Out of process, so that a hang or a stack overflow is one recorded finding rather than the end of the fork server;
    // SharpFuzz restarts its child with 'dotnet' and this process's command line, hence the .dll form above.
    Action<byte[]>? target = null;
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var input = new MemoryStream();
        stream.CopyTo(input);
        target ??= create();
        target(input.ToArray());
    });
    return 0;
}

static int Replay(Action<byte[]> target, string[] files)
{
    var crashed = 0;
    foreach (var file in files)
    {
        try
        {
            target(File.ReadAllBytes(file));
        }
        catch (Exception e) when (e is not IOException)
        {
            crashed++;
            Console.Error.WriteLine($"{file}: {e}");
        }
    }

    return crashed == 0 ? 0 : 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Sios.Fuzz list | seeds <dir> | fuzz <target> <keys-dir> | replay <target> <keys-dir> <file>...");
    return 2;
}
