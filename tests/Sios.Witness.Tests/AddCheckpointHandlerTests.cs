using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;
using Sios.Verify.Checkpoints;
using Sios.Verify.Notes;
using Sios.Witness;

namespace Sios.Witness.Tests;

/// <summary>add-checkpoint, status by status in the order c2sp.org/tlog-witness checks them.</summary>
public sealed class AddCheckpointHandlerTests() : WitnessTestBase("log.test/a", 40, seed: 1)
{
    private static string Text(WitnessResponse response) => Encoding.UTF8.GetString(response.Body);

    private async Task Accept(long old, long size)
    {
        var response = await Witness.AddAsync(Log.Body(old, size));
        Assert.True(response.Status == 200, Text(response));
    }

    [Fact]
    public async Task First_checkpoint_then_growth_are_cosigned_and_the_lines_verify_under_theWitness_vkeys()
    {
        foreach (var (old, size) in new[] { (0L, 5L), (5L, 17L), (17L, 17L), (17L, 40L) })
        {
            var checkpoint = Log.Checkpoint(size);
            var response = await Witness.AddAsync(TestLog.Body(old, Log.Proof(old, size), checkpoint));
            Assert.Equal(200, response.Status);
            var lines = Text(response);
            Assert.Equal(2, lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            Assert.All(lines.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("\u2014 " + TestWitness.Name + " ", l, StringComparison.Ordinal));
            var (_, signatures) = new NoteVerifier(Witness.Keys).Verify([.. checkpoint, .. response.Body]);
            Assert.All(signatures, s => Assert.True(s.Timestamp > 0));
            Assert.Equal(size, Witness.State.Latest(Log.Origin)!.Checkpoint.Size);
        }

        // Monitors read the latest: the log's lines the witness verified, then its own, all verifying.
        var kept = Witness.Handler.LatestCheckpoint(WitnessState.OriginHash(Log.Origin))!;
        new CheckpointVerifier(Log.Origin, [.. Log.Vkeys.Select(VerifierKey.Parse), .. Witness.Keys]).Verify(kept);
        Assert.Null(Witness.Handler.LatestCheckpoint(WitnessState.OriginHash("log.test/other")));
    }

    [Fact]
    public async Task A_stale_old_size_is_409_with_the_held_size_as_text_x_tlog_size()
    {
        await Accept(0, 10);
        foreach (var old in new long[] { 0, 5, 11 })
        {
            var response = await Witness.AddAsync(Log.Body(old, 20));
            Assert.Equal(409, response.Status);
            Assert.Equal("text/x.tlog.size", response.ContentType);
            Assert.Equal("10\n", Text(response));
        }
    }

    [Fact]
    public async Task A_bad_proof_or_a_proof_after_old_0_or_another_root_at_the_same_size_is_422()
    {
        Assert.Equal(422, (await Witness.AddAsync(TestLog.Body(0, Log.Proof(3, 12), Log.Checkpoint(12)))).Status);
        await Accept(0, 12);
        var wrong = Log.Proof(12, 30);
        wrong[0] = (byte[])wrong[0].Clone();
        wrong[0][0] ^= 1;
        Assert.Equal(422, (await Witness.AddAsync(TestLog.Body(12, wrong, Log.Checkpoint(30)))).Status);
        var fork = Log.Fork(common: 8, seed: 2);
        Assert.Equal(422, (await Witness.AddAsync(TestLog.Body(12, [], fork.Checkpoint(12)))).Status);
        Assert.Equal(422, (await Witness.AddAsync(TestLog.Body(12, fork.Proof(12, 30), fork.Checkpoint(30)))).Status);
        Assert.Equal(12, Witness.State.Latest(Log.Origin)!.Checkpoint.Size);
    }

    [Fact]
    public async Task A_size_0_checkpoint_must_carry_the_empty_root()
    {
        Assert.Equal(422, (await Witness.AddAsync(TestLog.Body(0, [], Log.Sign(0, new byte[32])))).Status);
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(0, 0))).Status);
    }

    [Fact]
    public async Task A_rollback_to_a_smaller_size_is_refused()
    {
        await Accept(0, 30);
        Assert.Equal(400, (await Witness.AddAsync(TestLog.Body(30, [], Log.Checkpoint(20)))).Status);
        Assert.Equal(409, (await Witness.AddAsync(Log.Body(20, 20))).Status);
        Assert.Equal(409, (await Witness.AddAsync(Log.Body(0, 20))).Status);
        Assert.Equal(30, Witness.State.Latest(Log.Origin)!.Checkpoint.Size);
    }

    [Fact]
    public async Task Unknown_origin_is_404_and_other_keys_are_403()
    {
        using var stranger = new TestLog("log.test/stranger", 4, seed: 4);
        Assert.Equal(404, (await Witness.AddAsync(stranger.Body(0, 4))).Status);

        using var impostor = new TestLog(Log.Origin, 4, seed: 5);
        Assert.Equal(403, (await Witness.AddAsync(impostor.Body(0, 4))).Status);

        // The log's key name and ID on a line whose signature does not verify: a malformed note, 403 too.
        var lines = Encoding.UTF8.GetString(Log.Checkpoint(4)).Split('\n');
        var parts = lines[4].Split(' ');
        var signature = Convert.FromBase64String(parts[2]);
        signature[10] ^= 1;
        lines[4] = $"{parts[0]} {parts[1]} {Convert.ToBase64String(signature)}";
        Assert.Equal(403, (await Witness.AddAsync(TestLog.Body(0, [], Encoding.UTF8.GetBytes(string.Join('\n', lines))))).Status);
        Assert.Null(Witness.State.Latest(Log.Origin));
    }

    [Theory]
    [InlineData("old 01\n\n")]
    [InlineData("old -1\n\n")]
    [InlineData("old 5\n")]
    [InlineData("Old 0\n\n")]
    [InlineData("old 0 \n\n")]
    [InlineData("old 0\nnot base64\n\n")]
    [InlineData("old 0\nAAAA\n\n")]
    public async Task Malformed_bodies_are_400(string head)
    {
        var response = await Witness.AddAsync([.. Encoding.ASCII.GetBytes(head), .. Log.Checkpoint(3)]);
        Assert.Equal(400, response.Status);
    }

    [Fact]
    public async Task A_body_without_a_note_or_with_64_proof_lines_is_400()
    {
        Assert.Equal(400, (await Witness.AddAsync(Encoding.ASCII.GetBytes("old 0\n\nnot a note\n"))).Status);
        var tooLong = Enumerable.Repeat(new byte[32], 64);
        Assert.Equal(400, (await Witness.AddAsync(TestLog.Body(0, tooLong, Log.Checkpoint(3)))).Status);
    }

    [Fact]
    public async Task An_ed25519Log_key_is_accepted_and_the_note_is_cosigned_as_sent()
    {
        var secret = new byte[32];
        System.Security.Cryptography.RandomNumberGenerator.Fill(secret);
        var pk = new byte[32];
        Ed25519.GeneratePublicKey(secret, 0, pk, 0);
        var key = VerifierKey.Create("ed.test/log", NoteKeyKind.Ed25519, pk);
        using var witness = new TestWitness(new WitnessLog(key.Name, [key.ToString()]));
        var text = new Checkpoint(key.Name, 0, Sios.Verify.Merkle.Rfc6962.EmptyRoot).ToNoteText();
        var signature = new byte[64];
        var message = Encoding.UTF8.GetBytes(text);
        Ed25519.Sign(secret, 0, message, 0, message.Length, signature, 0);
        var note = Encoding.UTF8.GetBytes(text + "\n" + SignedNote.FormatSignatureLine(key.Name, key.KeyId, signature));
        var response = await witness.AddAsync(TestLog.Body(0, [], note));
        Assert.Equal(200, response.Status);
        new NoteVerifier(witness.Keys).Verify([.. note, .. response.Body]);
    }
}
