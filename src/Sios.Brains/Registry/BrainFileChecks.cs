using Sios.Ledger.State;
using Sios.Verify.Entries;

namespace Sios.Brains.Registry;

/// <summary>
/// What makes <c>brains.json</c> trustworthy: its MAC verifies (no pin swapped by hand, no brain added), and it agrees
/// with every <c>brain.registered</c> and <c>brain.removed</c> sealed since its <c>as_of</c>. Where it lags (a crash
/// between the seal and the write, or an older copy put back), the log wins: a brain the log removed, or pinned to other
/// digests, is left out, and the lag is reported so that a server seals it. A registration the file lacks is no threat.
/// </summary>
internal static class BrainFileChecks
{
    private static readonly HashSet<string> Types = new(StringComparer.Ordinal) { EntryTypes.BrainRegistered, EntryTypes.BrainRemoved };

    public static List<BrainManifest> Check(StateFileAuthority authority, BrainsFile file, List<BrainManifest> brains, string path)
    {
        if (file.Format == BrainsFile.UnauthenticatedFormat)
        {
            throw authority.Refuse(BrainsFile.Kind,
                $"{path} predates authenticated brain registries (format 1), so nothing shows its pins were not changed: check them with 'sios brain list', then adopt it once with 'sios state adopt'");
        }

        if (!authority.Verify(BrainsFile.Kind, BrainsFile.Body(file), file.Mac))
        {
            throw authority.Refuse(BrainsFile.Kind,
                $"{path} does not carry a valid MAC: it was changed outside sios (a pin pointed at other weights, a brain added by hand?). " +
                "Restore it from a copy sios wrote, or inspect it and adopt it with 'sios state adopt'");
        }

        // The newest entry per brain since as_of is what the log says that brain is now: its pins, or null once removed.
        var latest = new Dictionary<string, (long Index, BrainRef? Pinned)>(StringComparer.Ordinal);
        foreach (var (index, entry) in authority.EntriesSince(file.AsOf ?? 0, Types))
        {
            if (BrainRegisteredEntry.TryRead(entry, out var registered))
            {
                latest[registered.Body.Brain.Name] = (index, registered.Body.Brain);
            }
            else if (BrainRemovedEntry.TryRead(entry, out var removed))
            {
                latest[removed.Body.Brain.Name] = (index, null);
            }
        }

        var trusted = new List<BrainManifest>(brains.Count);
        foreach (var brain in brains)
        {
            if (!latest.TryGetValue(brain.Name, out var said))
            {
                trusted.Add(brain);
                continue;
            }

            if (said.Pinned is not { } pinned)
            {
                authority.Report(BrainsFile.Kind, $"{path} still has brain '{brain.Name}', but the log removed it at index {said.Index}: it is left out");
            }
            else if (brain.Upstream is null && (pinned.Weights != brain.ModelSha256 || pinned.Adapter != brain.AdapterSha256 || pinned.Template != brain.ChatTemplateSha256))
            {
                authority.Report(BrainsFile.Kind, $"{path} pins brain '{brain.Name}' to other digests than the log registered at index {said.Index}: it is left out");
            }
            else
            {
                trusted.Add(brain);
            }
        }

        return trusted;
    }
}
