using Sios.Ledger.State;

namespace Sios.Ledger.Tests.State;

/// <summary>The file backend passes the state document conformance suite.</summary>
public sealed class FileStateDocumentConformanceTests : StateDocumentConformanceTests
{
    protected override IStateDocument Open(string name) => new FileStateDocument(Path.Combine(Folder, name + ".json"));

    protected override void Settle(string name) =>
        File.SetLastWriteTimeUtc(Path.Combine(Folder, name + ".json"), DateTime.UtcNow.AddMinutes(-1));
}
