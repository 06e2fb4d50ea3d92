using System.Text;
using Sios.Ledger.Durable;
using Sios.Witness;

namespace Sios.Witness.Tests;

/// <summary>The state's compare-and-swap, its durability and its recovery from a crash between record and state file.</summary>
public sealed class WitnessStateTests() : WitnessTestBase("log.test/state", 64, seed: 7)
{
    private string RecordPath => Path.Combine(Witness.Root, "record");

    private string StateFile => Path.Combine(Witness.Root, "state", WitnessState.OriginHash(Log.Origin) + ".checkpoint");

    [Fact]
    public async Task Concurrent_requests_from_the_same_old_size_cosign_exactly_one()
    {
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(0, 4))).Status);
        var fork = Log.Fork(common: 4, seed: 8);
        var bodies = Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? Log.Body(4, 10 + i) : fork.Body(4, 10 + i)).ToList();
        var answers = await Task.WhenAll(bodies.Select(b => Task.Run(() => Witness.AddAsync(b))));
        Assert.Single(answers, a => a.Status == 200);
        Assert.All(answers.Where(a => a.Status != 200), a => Assert.Equal(409, a.Status));
    }

    [Fact]
    public async Task State_survives_a_reopen_and_the_record_holds_every_cosigned_note_in_order()
    {
        foreach (var (old, size) in new[] { (0L, 3L), (3L, 9L), (9L, 20L) })
        {
            Assert.Equal(200, (await Witness.AddAsync(Log.Body(old, size))).Status);
        }

        Witness.Reopen();
        Assert.Equal(20, Witness.State.Latest(Log.Origin)!.Checkpoint.Size);
        Assert.Equal(409, (await Witness.AddAsync(Log.Body(9, 30))).Status);
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(20, 30))).Status);
        var sizes = Records().Select(n => CosignedCheckpoint.Parse(n).Checkpoint.Size);
        Assert.Equal([3L, 9L, 20L, 30L], sizes);
    }

    [Fact]
    public async Task A_crash_after_the_record_and_before_the_state_file_rolls_the_state_forward()
    {
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(0, 5))).Status);
        var before = File.ReadAllBytes(StateFile);
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(5, 12))).Status);
        Witness.State.Dispose();
        // As if the process died after the record's fsync, before the state file's rename.
        DurableFile.Replace(StateFile, before);
        Witness.Reopen();
        Assert.Equal(12, Witness.State.Latest(Log.Origin)!.Checkpoint.Size);
        Assert.Equal(12, CosignedCheckpoint.Parse(File.ReadAllBytes(StateFile)).Checkpoint.Size);
        var fork = Log.Fork(common: 5, seed: 9);
        Assert.Equal(409, (await Witness.AddAsync(fork.Body(5, 20))).Status);
    }

    [Fact]
    public async Task A_torn_last_record_is_cut_off_and_damage_before_it_refuses_the_open()
    {
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(0, 5))).Status);
        Witness.State.Dispose();
        var whole = File.ReadAllBytes(RecordPath);
        File.WriteAllBytes(RecordPath, [.. whole, .. Encoding.ASCII.GetBytes($"{WitnessRecord.Magic} 9000 ab"), 0x0a, 0x41]);
        Witness.Reopen();
        Assert.Equal(whole, File.ReadAllBytes(RecordPath));
        Assert.Equal(200, (await Witness.AddAsync(Log.Body(5, 6))).Status);
        Witness.State.Dispose();

        var damaged = File.ReadAllBytes(RecordPath);
        damaged[whole.Length / 2] ^= 1;
        File.WriteAllBytes(RecordPath, damaged);
        Assert.Throws<InvalidDataException>(() => WitnessState.Open(Witness.Root));
        File.WriteAllBytes(RecordPath, [.. whole, .. File.ReadAllBytes(RecordPath).Skip(whole.Length)]);
        Witness.Reopen();
    }

    [Fact]
    public void The_folder_is_held_by_one_state_at_a_time()
    {
        Assert.Throws<FileLockBusyException>(() => WitnessState.Open(Witness.Root));
        Assert.Throws<FileLockBusyException>(() => Witness.Folder.AddLog("log.test/late", Log.Vkeys));
    }

    private List<byte[]> Records()
    {
        Witness.State.Dispose();
        using var record = WitnessRecord.Open(RecordPath, out var notes);
        var list = notes.ToList();
        record.Dispose();
        Witness.Reopen();
        return list;
    }
}
