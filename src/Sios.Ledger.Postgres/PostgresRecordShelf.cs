using Npgsql;
using Sios.Ledger.State;

namespace Sios.Ledger.Postgres;

/// <summary>
/// One shelf of records as rows of the log's schema (<c>shelf</c>), so a record kept by one node is read by every node.
/// The records protect themselves (the vault's are encrypted under a key from the master secret, which never enters the
/// database); the row only keeps the bytes and when they were kept.
/// </summary>
internal sealed class PostgresRecordShelf(NpgsqlDataSource source, string schema, string shelf, string display) : IRecordShelf
{
    public string Location(string id) => $"{display}, shelf '{shelf}', record {id}";

    public void Put(string id, long keptAt, byte[] record) =>
        Run($"""
            INSERT INTO {schema}.shelf(shelf, id, kept_at, record) VALUES (@s, @id, @at, @r)
            ON CONFLICT (shelf, id) DO UPDATE SET kept_at = excluded.kept_at, record = excluded.record;
            """, command =>
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("at", keptAt);
            command.Parameters.AddWithValue("r", record);
            return command.ExecuteNonQuery();
        });

    public byte[]? Read(string id) =>
        Run($"SELECT record FROM {schema}.shelf WHERE shelf = @s AND id = @id;", command =>
        {
            command.Parameters.AddWithValue("id", id);
            return command.ExecuteScalar() as byte[];
        });

    public IReadOnlyList<string> KeptBefore(long cutOff) =>
        Run($"SELECT id FROM {schema}.shelf WHERE shelf = @s AND kept_at < @cut ORDER BY kept_at, id;", command =>
        {
            command.Parameters.AddWithValue("cut", cutOff);
            var ids = new List<string>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }

            return ids;
        });

    public bool Delete(string id) =>
        Run($"DELETE FROM {schema}.shelf WHERE shelf = @s AND id = @id;", command =>
        {
            command.Parameters.AddWithValue("id", id);
            return command.ExecuteNonQuery() > 0;
        });

    private T Run<T>(string sql, Func<NpgsqlCommand, T> run)
    {
        try
        {
            using var connection = source.OpenConnection();
            using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("s", shelf);
            return run(command);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new StateUnavailableException($"the shelf '{shelf}' in {display} cannot be reached: {e.Message}", e);
        }
    }
}
