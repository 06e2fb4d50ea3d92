using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Ledger.Storage;
using Sios.Signing;
using Sios.Verify.Audit;
using Sios.Verify.Checkpoints;
using Sios.Verify.Crypto;

namespace Sios.Ledger.Tests.Pipeline;

/// <summary>What the tests of several writers on one log share, whatever the store: the keys, the entries, the verdict.</summary>
internal static class SharedLogTesting
{
    /// <summary>The tail seal key every test node has (as nodes that copied one data folder do).</summary>
    public static readonly byte[] TailKey = Enumerable.Range(7, 32).Select(i => (byte)i).ToArray();

    /// <summary>A signer with the fixed test keys, as every node of one log holds.</summary>
    public static LogSigner Signer(string origin) => new(
        origin,
        MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa65, [.. Enumerable.Range(1, 32).Select(i => (byte)i)]),
        MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, [.. Enumerable.Range(2, 32).Select(i => (byte)i)]));

    /// <summary>An operator.note entry carrying <paramref name="text"/>.</summary>
    public static byte[] Entry(string text) => Encoding.UTF8.GetBytes($"{{\"v\":1,\"type\":\"operator.note\",\"text\":\"{text}\"}}");

    /// <summary>
    /// Every stored checkpoint verifies under the test keys and commits to the tree the stored entries make, the newest at
    /// <paramref name="size"/>: all of them are one history, every pair consistent.
    /// </summary>
    public static async Task AssertOneHistoryAsync(ILogReader store, string origin, long size)
    {
        var verifier = CheckpointVerifier.ForLogKeys(Signer(origin).VerifierKeys);
        var claims = new List<RootClaim>();
        await foreach (var checkpoint in store.ReadCheckpointsAsync(0))
        {
            claims.Add(new RootClaim(checkpoint.Size, verifier.Verify(checkpoint.Note).Checkpoint.Root, $"checkpoint {checkpoint.Size}"));
        }

        Assert.Equal(size, claims[^1].Size);
        var audit = await new LogAuditor(new StoreLogSource(store)).AuditAsync(size, claims);
        Assert.True(audit.Intact, audit.Problem);
    }
}
