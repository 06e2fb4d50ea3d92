using Sios.Verify.Notes;

namespace Sios.Fuzz;

/// <summary>
/// The verifier keys the targets trust, read from the vkey files the <c>seeds</c> command wrote beside the corpora,
/// so signatures in the seeds (made in another process, with fresh keys) verify in the fuzzed process.
/// </summary>
internal sealed record TrustedKeys(IReadOnlyList<VerifierKey> MlDsa, IReadOnlyList<VerifierKey> Ed25519)
{
    /// <summary>The ML-DSA-65 + ML-DSA-44 cosignature key file name.</summary>
    public const string MlDsaFile = "mldsa.vkeys";

    /// <summary>The Ed25519 key file name.</summary>
    public const string Ed25519File = "ed25519.vkeys";

    /// <summary>Both key sets, each as the full set a checkpoint of that log must be signed by.</summary>
    public IEnumerable<IReadOnlyList<VerifierKey>> Sets => [MlDsa, Ed25519];

    /// <summary>Reads the two vkey files (one vkey a line) from <paramref name="directory"/>.</summary>
    public static TrustedKeys Load(string directory) => new(Read(Path.Combine(directory, MlDsaFile)), Read(Path.Combine(directory, Ed25519File)));

    /// <summary>Writes the two vkey files into <paramref name="directory"/>.</summary>
    public static void Save(string directory, IReadOnlyList<VerifierKey> mlDsa, IReadOnlyList<VerifierKey> ed25519)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, MlDsaFile), mlDsa.Select(k => k.ToString()));
        File.WriteAllLines(Path.Combine(directory, Ed25519File), ed25519.Select(k => k.ToString()));
    }

    private static List<VerifierKey> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The trusted key file {path} is missing; write it (and the seed corpora) first with 'Sios.Fuzz seeds <directory>'.", path);
        }

        return [.. File.ReadAllLines(path).Where(l => l.Length > 0).Select(VerifierKey.Parse)];
    }
}
