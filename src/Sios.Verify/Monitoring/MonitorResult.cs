using System.Globalization;
using Sios.Verify.Checkpoints;

namespace Sios.Verify.Monitoring;

/// <summary>What one poll of a monitored log found.</summary>
public enum MonitorVerdict
{
    /// <summary>A new checkpoint, consistent with the last one, whose new entries all have their shape: accepted.</summary>
    Grew,

    /// <summary>The same checkpoint as last time (same size and root).</summary>
    Unchanged,

    /// <summary>A trusted checkpoint of a smaller tree than one accepted before.</summary>
    Rollback,

    /// <summary>A trusted checkpoint whose tree does not contain the one accepted before (same size, other root; or a bigger tree that does not extend it).</summary>
    Fork,

    /// <summary>The checkpoint is not trusted: unreadable, wrong origin, or not signed by the trusted keys.</summary>
    BadCheckpoint,

    /// <summary>A new entry is malformed, or the entry bundles do not hash to the signed root.</summary>
    BadEntry,

    /// <summary>The log's tiles are missing or damaged, or disagree with its signed root or with its entries.</summary>
    BadTiles,
}

/// <summary>A checkpoint as the monitor holds it: its size, root and the signed note exactly as fetched.</summary>
/// <param name="Size">Tree size.</param>
/// <param name="Root">Root hash at that size.</param>
/// <param name="Note">The signed note bytes (what a state file keeps).</param>
public sealed record MonitoredCheckpoint(long Size, byte[] Root, byte[] Note)
{
    /// <summary>The checkpoint of <paramref name="verified"/>, kept with the note bytes it was verified from.</summary>
    public static MonitoredCheckpoint From(VerifiedCheckpoint verified, byte[] note)
    {
        ArgumentNullException.ThrowIfNull(verified);
        return new(verified.Checkpoint.Size, verified.Checkpoint.Root, note);
    }

    /// <summary>"size N root B64".</summary>
    public override string ToString() => $"size {Size.ToString(CultureInfo.InvariantCulture)} root {Convert.ToBase64String(Root)}";
}

/// <summary>The outcome of one poll.</summary>
/// <param name="Verdict">What was found.</param>
/// <param name="Origin">The log's origin.</param>
/// <param name="Previous">The checkpoint accepted before this poll (null on a first poll without state).</param>
/// <param name="Current">The checkpoint fetched, when it could be read as one (even if untrusted).</param>
/// <param name="Problem">What is wrong, for every verdict but <see cref="MonitorVerdict.Grew"/> and <see cref="MonitorVerdict.Unchanged"/>.</param>
/// <param name="EntriesChecked">New entries read and checked by this poll.</param>
public sealed record MonitorResult(MonitorVerdict Verdict, string Origin, MonitoredCheckpoint? Previous, MonitoredCheckpoint? Current, string? Problem, long EntriesChecked)
{
    /// <summary>True when the poll accepted the log's checkpoint.</summary>
    public bool Accepted => Verdict is MonitorVerdict.Grew or MonitorVerdict.Unchanged;

    /// <summary>One line naming the log, both checkpoints and what went wrong (or what was accepted).</summary>
    public string Describe()
    {
        var before = Previous is null ? "no checkpoint accepted before" : $"last accepted {Previous}";
        var now = Current is null ? "now an unreadable checkpoint" : $"now {Current}";
        var label = Verdict switch
        {
            MonitorVerdict.Grew => "grew",
            MonitorVerdict.Unchanged => "unchanged",
            MonitorVerdict.Rollback => "ROLLBACK",
            MonitorVerdict.Fork => "FORK",
            MonitorVerdict.BadCheckpoint => "UNTRUSTED CHECKPOINT",
            MonitorVerdict.BadEntry => "BAD ENTRY",
            _ => "BAD TILES",
        };

        return Problem is null ? $"{label}: {Origin}: {before}, {now}" : $"{label}: {Origin}: {before}, {now}: {Problem}";
    }
}
