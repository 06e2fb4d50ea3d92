using System.Buffers.Binary;
using System.Security.Cryptography;
using Sios.Ledger.State;
using Sios.Ledger.Tests.State;
using Sios.Server.Vault;

namespace Sios.Server.Tests.Vault;

/// <summary>The vault folder's files pass the record shelf conformance suite (their kept time is in their header).</summary>
public sealed class FolderShelfConformanceTests : RecordShelfConformanceTests, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "sios-shelf-" + Guid.NewGuid().ToString("N"));

    protected override IRecordShelf Open() => ContentVault.FolderShelves(_folder).Answers;

    protected override byte[] MakeRecord(long keptAt)
    {
        var record = RandomNumberGenerator.GetBytes(64);
        "SIOSVLT1"u8.CopyTo(record);
        BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), keptAt);
        return record;
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
