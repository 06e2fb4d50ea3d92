using System.Security.Cryptography;
using Sios.Ledger.State;

namespace Sios.Ledger.Tests.State;

/// <summary>
/// The behaviour every <see cref="IRecordShelf"/> backend must show. A backend's test project implements
/// <see cref="Open"/> (each call a new handle on the same shelf, as another node has) and <see cref="MakeRecord"/> (a
/// record whose kept time the backend can tell, as the vault's own records carry theirs).
/// </summary>
public abstract class RecordShelfConformanceTests
{
    /// <summary>A handle on the shelf.</summary>
    protected abstract IRecordShelf Open();

    /// <summary>A record kept at <paramref name="keptAt"/> (Unix ms), its bytes otherwise random.</summary>
    protected abstract byte[] MakeRecord(long keptAt);

    private static string NewId() => Guid.NewGuid().ToString("D");

    [SkippableFact]
    public void A_record_put_by_one_handle_is_read_back_exactly_by_another()
    {
        var id = NewId();
        var record = MakeRecord(1_000);

        Assert.Null(Open().Read(id));
        Open().Put(id, 1_000, record);

        Assert.Equal(record, Open().Read(id));
        Assert.Contains(id, Open().Location(id), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_put_replaces_the_record_whole_and_a_delete_removes_it_once()
    {
        var id = NewId();
        Open().Put(id, 1_000, MakeRecord(1_000));
        var second = MakeRecord(2_000);
        Open().Put(id, 2_000, second);

        Assert.Equal(second, Open().Read(id));
        Assert.True(Open().Delete(id));
        Assert.False(Open().Delete(id));
        Assert.Null(Open().Read(id));
    }

    [SkippableFact]
    public void Records_kept_before_a_cut_off_are_listed_oldest_first_and_no_others()
    {
        var shelf = Open();
        var (old, older, fresh) = (NewId(), NewId(), NewId());
        shelf.Put(old, 5_000, MakeRecord(5_000));
        shelf.Put(older, 3_000, MakeRecord(3_000));
        shelf.Put(fresh, 9_000, MakeRecord(9_000));

        Assert.Equal([older, old], Open().KeptBefore(9_000));
        Assert.Empty(Open().KeptBefore(3_000));
    }
}
