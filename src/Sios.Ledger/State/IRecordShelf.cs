namespace Sios.Ledger.State;

/// <summary>
/// Records kept by id with the time they were kept (the vault's encrypted answers, the stored responses' owner claims):
/// files of the data folder for one node, rows of the log's database for several, so any node can disclose or serve
/// what another kept. A record protects itself (encryption or a MAC under a key from the master secret); the shelf only
/// keeps bytes, durably, one write replacing a record whole.
/// </summary>
public interface IRecordShelf
{
    /// <summary>Where the record <paramref name="id"/> lives, as messages name it.</summary>
    string Location(string id);

    /// <summary>Stores <paramref name="record"/> under <paramref name="id"/> (replacing any), kept at <paramref name="keptAt"/> (Unix ms).</summary>
    /// <exception cref="StateUnavailableException">The database holding it cannot be reached.</exception>
    void Put(string id, long keptAt, byte[] record);

    /// <summary>The record kept under <paramref name="id"/>, or null.</summary>
    /// <exception cref="StateUnavailableException">The database holding it cannot be reached.</exception>
    byte[]? Read(string id);

    /// <summary>The ids of the records kept before <paramref name="cutOff"/> (Unix ms), oldest first.</summary>
    /// <exception cref="StateUnavailableException">The database holding it cannot be reached.</exception>
    IReadOnlyList<string> KeptBefore(long cutOff);

    /// <summary>Removes the record <paramref name="id"/>; false when there was none.</summary>
    /// <exception cref="StateUnavailableException">The database holding it cannot be reached.</exception>
    bool Delete(string id);
}
