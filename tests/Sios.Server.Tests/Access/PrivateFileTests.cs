using Sios.Server.Access;

namespace Sios.Server.Tests.Access;

public sealed class PrivateFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Replace_writes_a_private_file_and_leaves_no_temporary_behind()
    {
        var path = _folder.File("a.json");
        PrivateFile.Replace(path, "one"u8);
        PrivateFile.Replace(path, "two"u8);
        Assert.Equal("two", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_folder.Path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void TryCreate_never_overwrites()
    {
        var path = _folder.File("master.key");
        Assert.True(PrivateFile.TryCreate(path, "first"u8));
        Assert.False(PrivateFile.TryCreate(path, "second"u8));
        Assert.Equal("first", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_folder.Path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void Racing_creators_leave_exactly_one_winner_whose_content_is_whole()
    {
        for (var round = 0; round < 40; round++)
        {
            var path = _folder.File($"raced-{round}.key");
            var contents = Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), 4096)).ToArray();
            var wins = new bool[contents.Length];
            using var start = new Barrier(contents.Length);
            var creators = Enumerable.Range(0, contents.Length).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                wins[i] = PrivateFile.TryCreate(path, System.Text.Encoding.ASCII.GetBytes(contents[i]));
            })).ToList();
            creators.ForEach(t => t.Start());
            creators.ForEach(t => t.Join());

            var winner = Assert.Single(Enumerable.Range(0, wins.Length), i => wins[i]);
            Assert.Equal(contents[winner], File.ReadAllText(path));
        }

        Assert.Equal(40, Directory.GetFiles(_folder.Path).Length);
    }
}
