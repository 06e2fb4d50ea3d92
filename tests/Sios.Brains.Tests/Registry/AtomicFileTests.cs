using System.Text;
using Sios.Brains.Registry;

namespace Sios.Brains.Tests.Registry;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Writes_a_new_file_and_replaces_an_old_one_whole()
    {
        var path = _folder.File("state.json");
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(new string('x', 100_000)));
        AtomicFile.Write(path, "short"u8);
        Assert.Equal("short", File.ReadAllText(path));
        Assert.Equal(["state.json"], Directory.GetFiles(_folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_write_that_fails_leaves_the_target_alone_and_no_temporary_file()
    {
        var target = _folder.File("occupied");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep"), "kept");
        Assert.ThrowsAny<IOException>(() => AtomicFile.Write(target, "new"u8));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(target, "keep")));
        Assert.Empty(Directory.GetFiles(_folder.Path));
    }

    [Fact]
    public void A_temporary_file_left_by_a_crashed_writer_does_not_disturb_the_next_write()
    {
        var path = _folder.File("state.json");
        AtomicFile.Write(path, "old"u8);
        File.WriteAllText(_folder.File(".state.json.999.deadbeef.tmp"), "half writ");
        AtomicFile.Write(path, "new"u8);
        Assert.Equal("new", File.ReadAllText(path));
    }
}
