using System.Globalization;
using Sios.Ledger.Durable;
using Sios.Ledger.State;

namespace Sios.Server.Vault;

/// <summary>
/// Records as files of one folder, <c>&lt;id&gt;&lt;extension&gt;</c>, each replaced atomically with mode 0600. Ids are
/// canonical UUIDs only, so no id can reach outside the folder. When a record is kept is read from its own first bytes
/// by <paramref name="keptAt"/> (null: the file is not one of ours, and is left for the operator, never deleted).
/// </summary>
internal sealed class FolderShelf(string folder, string extension, int headerSize, Func<ReadOnlySpan<byte>, long?> keptAt) : IRecordShelf
{
    /// <summary>The folder.</summary>
    public string Folder { get; } = Path.GetFullPath(folder);

    public string Location(string id) => PathOf(id);

    public void Put(string id, long keptAtMs, byte[] record)
    {
        var path = PathOf(id);
        DurableFile.CreateDirectory(Folder);
        DurableFile.Replace(path, record);
    }

    public byte[]? Read(string id)
    {
        try
        {
            return File.ReadAllBytes(PathOf(id));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public IReadOnlyList<string> KeptBefore(long cutOff)
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        var found = new List<(long KeptAt, string Id)>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*" + extension))
        {
            var id = Path.GetFileNameWithoutExtension(path);
            if (Guid.TryParseExact(id, "D", out _) && ReadKeptAt(path) is { } kept && kept < cutOff)
            {
                found.Add((kept, id));
            }
        }

        return [.. found.OrderBy(e => e.KeptAt).Select(e => e.Id)];
    }

    public bool Delete(string id)
    {
        var path = PathOf(id);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    private string PathOf(string id) => Path.Combine(Folder, Guid.ParseExact(id, "D").ToString("D", CultureInfo.InvariantCulture) + extension);

    private long? ReadKeptAt(string path)
    {
        var header = new byte[headerSize];
        try
        {
            using var stream = File.OpenRead(path);
            stream.ReadExactly(header);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return keptAt(header);
    }
}
