using System.Security.Cryptography;
using System.Text.Json;
using Sios.Brains.Registry;
using Sios.Brains.Synth;

namespace Sios.Brains.Tests.Registry;

/// <summary>A fresh folder under the temp directory, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sios-brains-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="length"/> random bytes to a new file and returns its full path.</summary>
    public string RandomFile(string name, int length)
    {
        var path = File(name);
        System.IO.File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(length));
        return path;
    }

    /// <summary>A GGUF model header (no tensors) then <paramref name="length"/> random bytes: registrable, and unique.</summary>
    public string RandomModel(string name, int length) => RandomGguf(name, length, adapter: false);

    /// <summary>A LoRA adapter header for a <see cref="RandomModel"/> (no tensors) then <paramref name="length"/> random bytes.</summary>
    public string RandomAdapter(string name, int length) => RandomGguf(name, length, adapter: true);

    private string RandomGguf(string name, int length, bool adapter)
    {
        var path = File(name);
        var header = new GgufWriter().AddString("general.architecture", "llama").AddString("general.type", adapter ? "adapter" : "model");
        if (adapter)
        {
            header.AddString("adapter.type", "lora");
        }

        using var stream = System.IO.File.Create(path);
        header.WriteTo(stream);
        stream.Write(RandomNumberGenerator.GetBytes(length));
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>A sealer that keeps every entry, and can be told to fail or to look around while sealing.</summary>
internal sealed class RecordingSealer
{
    private readonly List<byte[]> _entries = [];

    public Exception? FailWith { get; set; }

    public Action<byte[]>? WhileSealing { get; set; }

    public IReadOnlyList<byte[]> Entries => _entries;

    public EntrySealer Seal => (entry, _) =>
    {
        WhileSealing?.Invoke(entry);
        if (FailWith is { } failure)
        {
            return Task.FromException(failure);
        }

        lock (_entries)
        {
            _entries.Add(entry);
        }

        return Task.CompletedTask;
    };

    public JsonElement Single()
    {
        Assert.Single(_entries);
        return Parse(_entries[0]);
    }

    public static JsonElement Parse(byte[] entry)
    {
        using var document = JsonDocument.Parse(entry);
        return document.RootElement.Clone();
    }
}
