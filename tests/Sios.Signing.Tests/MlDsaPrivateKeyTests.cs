using System.Reflection;
using Org.BouncyCastle.Crypto.Parameters;
using Sios.Verify.Crypto;

namespace Sios.Signing.Tests;

/// <summary>Key generation, signing, argument checks, concurrency and disposal.</summary>
public class MlDsaPrivateKeyTests
{
    private static readonly byte[] Message = "tree size 42\n"u8.ToArray();

    public static TheoryData<MlDsaAlgorithm> Algorithms => [MlDsaAlgorithm.MlDsa44, MlDsaAlgorithm.MlDsa65];

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Generated_keys_are_distinct_and_sized(MlDsaAlgorithm algorithm)
    {
        using var first = MlDsaPrivateKey.Generate(algorithm);
        using var second = MlDsaPrivateKey.Generate(algorithm);

        Assert.Equal(MlDsaSizes.PublicKey(algorithm), first.PublicKey.Length);
        Assert.NotEqual(first.PublicKey, second.PublicKey);
        Assert.True(first.HasSeed);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Same_seed_gives_the_same_key(MlDsaAlgorithm algorithm)
    {
        var seed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        using var first = MlDsaPrivateKey.FromSeed(algorithm, seed);
        using var second = MlDsaPrivateKey.FromSeed(algorithm, seed);
        seed[0] ^= 1;
        using var other = MlDsaPrivateKey.FromSeed(algorithm, seed);

        Assert.Equal(first.PublicKey, second.PublicKey);
        Assert.NotEqual(first.PublicKey, other.PublicKey);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Hedged_signatures_differ_and_verify(MlDsaAlgorithm algorithm)
    {
        using var key = MlDsaPrivateKey.Generate(algorithm);

        var first = key.Sign(Message);
        var second = key.Sign(Message);

        Assert.Equal(MlDsaSizes.Signature(algorithm), first.Length);
        Assert.NotEqual(first, second);
        Assert.True(MlDsaVerifier.Verify(algorithm, key.PublicKey, Message, first));
        Assert.True(MlDsaVerifier.Verify(algorithm, key.PublicKey, Message, second));
    }

    [Fact]
    public void Zero_rnd_is_deterministic()
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65);

        Assert.Equal(key.Sign(Message, default, new byte[32]), key.Sign(Message, default, new byte[32]));
    }

    [Fact]
    public void Context_is_bound_into_the_signature()
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
        var context = "sios"u8.ToArray();

        var signature = key.Sign(Message, context);

        Assert.True(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, key.PublicKey, Message, signature, context));
        Assert.False(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, key.PublicKey, Message, signature));
        Assert.True(MlDsaVerifier.Verify(
            MlDsaAlgorithm.MlDsa44, key.PublicKey, Message, key.Sign(Message, new byte[255]), new byte[255]));
    }

    [Fact]
    public void Concurrent_signing_on_one_key_gives_valid_signatures()
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65);
        var publicKey = key.PublicKey;
        const int threads = 8;
        const int perThread = 12;
        var results = new (byte[] Message, byte[] Signature)[threads * perThread];
        using var start = new Barrier(threads);

        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
            {
                var message = BitConverter.GetBytes((t * perThread) + i);
                results[(t * perThread) + i] = (message, key.Sign(message));
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.All(results, r => Assert.True(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa65, publicKey, r.Message, r.Signature)));
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);

        Assert.Throws<ArgumentException>(() => MlDsaPrivateKey.FromSeed(MlDsaAlgorithm.MlDsa44, new byte[31]));
        Assert.Throws<ArgumentException>(() => MlDsaPrivateKey.FromExpandedKey(MlDsaAlgorithm.MlDsa65, key.ExportExpandedKey()));
        Assert.Throws<ArgumentException>(() => key.Sign(Message, new byte[256]));
        Assert.Throws<ArgumentException>(() => key.Sign(Message, default, new byte[31]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(200)]
    public void Inconsistent_expanded_key_is_rejected(int position)
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
        var sk = key.ExportExpandedKey();
        sk[position] ^= 0x01;

        var e = Assert.Throws<ArgumentException>(() => MlDsaPrivateKey.FromExpandedKey(MlDsaAlgorithm.MlDsa44, sk));
        Assert.Contains("inconsistent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Public_key_pem_parses_back()
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa65);

        var (algorithm, publicKey) = PublicKeyPem.Parse(key.ExportPublicKeyPem());

        Assert.Equal(MlDsaAlgorithm.MlDsa65, algorithm);
        Assert.Equal(key.PublicKey, publicKey);
    }

    [Fact]
    public void Public_key_property_is_a_copy()
    {
        using var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);

        key.PublicKey[0] ^= 0xff;

        Assert.True(MlDsaVerifier.Verify(MlDsaAlgorithm.MlDsa44, key.PublicKey, Message, key.Sign(Message)));
    }

    [Fact]
    public void Disposed_key_cannot_be_used()
    {
        var key = MlDsaPrivateKey.Generate(MlDsaAlgorithm.MlDsa44);
        key.Dispose();
        key.Dispose();

        Assert.Throws<ObjectDisposedException>(() => key.Sign(Message));
        Assert.Throws<ObjectDisposedException>(() => key.Sign(Message, default, new byte[32]));
        Assert.Throws<ObjectDisposedException>(() => key.ExportEncryptedPem("x"));
    }

    [Fact]
    public void Disposing_the_bouncycastle_key_zeroes_its_secret_arrays()
    {
        var backend = BouncyCastleMlDsaKey.FromSeed(MlDsaAlgorithm.MlDsa44, Enumerable.Repeat((byte)9, 32).ToArray());
        var held = (MLDsaPrivateKeyParameters)typeof(BouncyCastleMlDsaKey)
            .GetField("key", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(backend)!;
        Assert.Contains(held.GetEncoded(), b => b != 0);

        backend.Dispose();

        Assert.All(held.GetEncoded(), b => Assert.Equal(0, b));
        Assert.All(held.GetSeed(), b => Assert.Equal(0, b));
    }
}
