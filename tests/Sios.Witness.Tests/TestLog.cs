using System.Text;
using Sios.Ledger.Checkpoints;
using Sios.Signing;
using Sios.Tests.Shared;
using Sios.Verify.Crypto;
using Sios.Verify.Notes;
using Sios.Witness;

namespace Sios.Witness.Tests;

/// <summary>An in-memory SIOS log: real ML-DSA-65 + ML-DSA-44 signed checkpoints over a naive RFC 6962 tree.</summary>
internal sealed class TestLog : IDisposable
{
    private readonly LogSigner _signer;
    private readonly NaiveTree _tree;

    public TestLog(string origin, int leaves, int seed)
    {
        _signer = new LogSigner(origin, MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65), MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44));
        _tree = new NaiveTree(NaiveMerkle.RandomLeaves(seed, leaves).Select(NaiveMerkle.LeafHash).ToList());
    }

    /// <summary>A fork: the same keys and origin over other leaves after the first <paramref name="common"/>.</summary>
    private TestLog(TestLog parent, int common, int seed)
    {
        _signer = parent._signer;
        _tree = new NaiveTree([.. parent._tree.Leaves.Take(common), .. NaiveMerkle.RandomLeaves(seed, parent._tree.Leaves.Count - common).Select(NaiveMerkle.LeafHash)]);
        Borrowed = true;
    }

    private bool Borrowed { get; }

    public string Origin => _signer.Origin;

    public IReadOnlyList<string> Vkeys => [.. _signer.VerifierKeys.Select(k => k.ToString())];

    public TestLog Fork(int common, int seed) => new(this, common, seed);

    public byte[] Root(long size) => _tree.Mth(0, size);

    public byte[] Checkpoint(long size) => _signer.Sign(size, Root(size));

    public byte[] Sign(long size, byte[] root) => _signer.Sign(size, root);

    public List<byte[]> Proof(long from, long to) => from == 0 || from == to ? [] : _tree.Proof(from, to);

    public static byte[] Body(long old, IEnumerable<byte[]> proof, byte[] checkpoint)
    {
        var head = new StringBuilder($"old {old}\n");
        foreach (var hash in proof)
        {
            head.Append(Convert.ToBase64String(hash)).Append('\n');
        }

        return [.. Encoding.ASCII.GetBytes(head.Append('\n').ToString()), .. checkpoint];
    }

    public byte[] Body(long old, long size) => Body(old, Proof(old, size), Checkpoint(size));

    public WitnessLog AsWitnessLog() => new(Origin, Vkeys);

    public void Dispose()
    {
        if (!Borrowed)
        {
            _signer.Dispose();
        }
    }
}

/// <summary>A witness folder in a temporary directory, with its state and handler open.</summary>
internal sealed class TestWitness : IDisposable
{
    public const string Name = "witness.test/w1";
    public const string Passphrase = "witness test passphrase";

    public TestWitness(params WitnessLog[] logs)
    {
        Directory.CreateDirectory(Root);
        Folder = WitnessFolder.Init(Root, Name, Passphrase);
        foreach (var log in logs)
        {
            Folder.AddLog(log.Origin, log.Vkeys);
        }

        Cosigner = Folder.LoadCosigner(Passphrase);
        Reopen();
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sios-witness-" + Guid.NewGuid().ToString("N"));

    public WitnessFolder Folder { get; }

    public Cosigner Cosigner { get; }

    public WitnessState State { get; private set; } = null!;

    public AddCheckpointHandler Handler { get; private set; } = null!;

    public IReadOnlyList<VerifierKey> Keys => Cosigner.Keys;

    public void Reopen()
    {
        State?.Dispose();
        State = WitnessState.Open(Root);
        Handler = new AddCheckpointHandler(State, Cosigner, Folder.Config.Logs);
    }

    public Task<WitnessResponse> AddAsync(byte[] body) => Handler.AddCheckpointAsync(body, CancellationToken.None);

    public void Dispose()
    {
        State.Dispose();
        Cosigner.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>A test class over one fresh log and a witness of it.</summary>
public abstract class WitnessTestBase : IDisposable
{
    private protected WitnessTestBase(string origin, int leaves, int seed)
    {
        Log = new TestLog(origin, leaves, seed);
        Witness = new TestWitness(Log.AsWitnessLog());
    }

    private protected TestLog Log { get; }

    private protected TestWitness Witness { get; }

    public void Dispose()
    {
        Witness.Dispose();
        Log.Dispose();
        GC.SuppressFinalize(this);
    }
}
