namespace Sios.Verify.Audit;

/// <summary>A log as tlog-tiles publishes it: its latest signed checkpoint beside its tiles and entry bundles.</summary>
public interface IPublishedLog : ILogSource
{
    /// <summary>Returns the latest signed checkpoint note, as published.</summary>
    ValueTask<byte[]> ReadCheckpointAsync(CancellationToken cancellationToken);
}
