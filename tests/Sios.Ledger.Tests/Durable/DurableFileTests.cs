using System.Text;
using Sios.Ledger.Durable;

namespace Sios.Ledger.Tests.Durable;

/// <summary>The one durable-file toolkit: private, whole after a crash, and durable once a write returns.</summary>
public sealed class DurableFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sios-durable-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string File(string name) => Path.Combine(_root, name);

    [Fact]
    public void Replace_writes_a_private_file_and_leaves_no_temporary_behind()
    {
        var path = File("a.json");
        DurableFile.Replace(path, "one"u8);
        DurableFile.Replace(path, "two"u8);
        Assert.Equal("two", System.IO.File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_root));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void TryCreate_never_overwrites()
    {
        var path = File("master.key");
        Assert.True(DurableFile.TryCreate(path, "first"u8));
        Assert.False(DurableFile.TryCreate(path, "second"u8));
        Assert.Equal("first", System.IO.File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_root));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void TryPublish_gives_a_finished_file_a_new_name_and_never_overwrites()
    {
        var written = File("model.gguf.partial");
        System.IO.File.WriteAllText(written, "quantized");
        Assert.True(DurableFile.TryPublish(written, File("model.gguf")));
        Assert.Equal("quantized", System.IO.File.ReadAllText(File("model.gguf")));
        Assert.Equal([File("model.gguf")], Directory.GetFiles(_root));

        System.IO.File.WriteAllText(written, "another");
        Assert.False(DurableFile.TryPublish(written, File("model.gguf")));
        Assert.Equal("quantized", System.IO.File.ReadAllText(File("model.gguf")));
        Assert.Equal("another", System.IO.File.ReadAllText(written));
    }

    [Fact]
    public void Racing_creators_leave_exactly_one_winner_whose_content_is_whole()
    {
        for (var round = 0; round < 40; round++)
        {
            var path = File($"raced-{round}.key");
            var contents = Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), 4096)).ToArray();
            var wins = new bool[contents.Length];
            using var start = new Barrier(contents.Length);
            var creators = Enumerable.Range(0, contents.Length).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                wins[i] = DurableFile.TryCreate(path, System.Text.Encoding.ASCII.GetBytes(contents[i]));
            })).ToList();
            creators.ForEach(t => t.Start());
            creators.ForEach(t => t.Join());

            var winner = Assert.Single(Enumerable.Range(0, wins.Length), i => wins[i]);
            Assert.Equal(contents[winner], System.IO.File.ReadAllText(path));
        }

        Assert.Equal(40, Directory.GetFiles(_root).Length);
    }

    [Fact]
    public void Writes_a_new_file_and_replaces_an_old_one_whole()
    {
        var path = File("state.json");
        DurableFile.Replace(path, Encoding.UTF8.GetBytes(new string('x', 100_000)));
        DurableFile.Replace(path, "short"u8);
        Assert.Equal("short", System.IO.File.ReadAllText(path));
        Assert.Equal(["state.json"], Directory.GetFiles(_root).Select(Path.GetFileName));
    }

    [Fact]
    public void A_write_that_fails_leaves_the_target_alone_and_no_temporary_file()
    {
        var target = File("occupied");
        Directory.CreateDirectory(target);
        System.IO.File.WriteAllText(Path.Combine(target, "keep"), "kept");
        Assert.ThrowsAny<IOException>(() => DurableFile.Replace(target, "new"u8));
        Assert.Equal("kept", System.IO.File.ReadAllText(Path.Combine(target, "keep")));
        Assert.Empty(Directory.GetFiles(_root));
    }

    [Fact]
    public void A_temporary_file_left_by_a_crashed_writer_does_not_disturb_the_next_write()
    {
        var path = File("state.json");
        DurableFile.Replace(path, "old"u8);
        System.IO.File.WriteAllText(File(".state.json.999.deadbeef.tmp"), "half writ");
        DurableFile.Replace(path, "new"u8);
        Assert.Equal("new", System.IO.File.ReadAllText(path));
    }

    [Fact]
    public void A_held_lock_is_waited_for_then_refused_as_busy()
    {
        var path = File("held.lock");
        using var held = FileLock.Acquire(path, TimeSpan.Zero, "unused");
        var started = System.Diagnostics.Stopwatch.StartNew();
        var busy = Assert.Throws<FileLockBusyException>(() => FileLock.Acquire(path, TimeSpan.FromMilliseconds(200), "the keys are being changed"));
        Assert.Equal("the keys are being changed", busy.Message);
        Assert.True(started.ElapsedMilliseconds >= 150, $"gave up after {started.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_lock_that_cannot_be_opened_fails_at_once_as_what_it_is_not_as_busy()
    {
        var missing = Path.Combine(_root, "no-such-folder", "x.lock");
        var started = System.Diagnostics.Stopwatch.StartNew();
        var failure = await Assert.ThrowsAnyAsync<IOException>(() => FileLock.AcquireAsync(missing, TimeSpan.FromSeconds(10), "busy", default));
        Assert.IsNotType<FileLockBusyException>(failure);
        Assert.True(started.ElapsedMilliseconds < 5_000, "a folder that does not exist was waited on as if the lock were held");
    }

    [Fact]
    public async Task A_released_lock_is_taken_by_the_next_waiter()
    {
        var path = File("handoff.lock");
        var first = FileLock.Acquire(path, TimeSpan.Zero, "unused");
        var second = FileLock.AcquireAsync(path, TimeSpan.FromSeconds(10), "busy", default);
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        await first.DisposeAsync();
        await using var taken = await second.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
