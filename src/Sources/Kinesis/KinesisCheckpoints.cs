using Sluice.Clients;

namespace Sluice.Sources;

/// <summary>
/// Durable checkpoints per (resolver, stream, shard): the sequence number and local offset of the last record whose
/// every target acknowledged, and whether the shard was read to its end. Local offsets continue from the checkpoint on a
/// restart, so a record read again gets its old position back (deduplication sees a redelivery, not a duplicate).
/// </summary>
internal sealed class KinesisCheckpoints : IAsyncDisposable
{
    private readonly SqliteFile _file;
    private readonly Lock _lock = new();

    private KinesisCheckpoints(SqliteFile file) => _file = file;

    public static async Task<KinesisCheckpoints> OpenAsync(string path, CancellationToken ct)
    {
        var file = await SqliteFile.OpenAsync(path, "Kinesis checkpoints", "", ct);
        using var create = file.Connection.CreateCommand();
        create.CommandText = "CREATE TABLE IF NOT EXISTS checkpoint (resolver TEXT, stream TEXT, shard TEXT, sequence TEXT, offset INTEGER, finished INTEGER, PRIMARY KEY (resolver, stream, shard))";
        create.ExecuteNonQuery();
        return new KinesisCheckpoints(file);
    }

    public (string? Sequence, long Offset, bool Finished)? Get(string resolver, string stream, string shard)
    {
        lock (_lock)
        {
            using var q = _file.Connection.CreateCommand();
            q.CommandText = "SELECT sequence, offset, finished FROM checkpoint WHERE resolver = $r AND stream = $s AND shard = $h";
            q.Parameters.AddWithValue("$r", resolver);
            q.Parameters.AddWithValue("$s", stream);
            q.Parameters.AddWithValue("$h", shard);
            using var reader = q.ExecuteReader();
            if (!reader.Read()) return null;
            return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2) != 0);
        }
    }

    public void Set(string resolver, string stream, string shard, string? sequence, long offset, bool finished)
    {
        lock (_lock)
        {
            using var q = _file.Connection.CreateCommand();
            q.CommandText = "INSERT INTO checkpoint VALUES ($r, $s, $h, $q, $o, $f) ON CONFLICT (resolver, stream, shard) DO UPDATE SET sequence = excluded.sequence, offset = excluded.offset, finished = excluded.finished";
            q.Parameters.AddWithValue("$r", resolver);
            q.Parameters.AddWithValue("$s", stream);
            q.Parameters.AddWithValue("$h", shard);
            q.Parameters.AddWithValue("$q", (object?)sequence ?? DBNull.Value);
            q.Parameters.AddWithValue("$o", offset);
            q.Parameters.AddWithValue("$f", finished ? 1 : 0);
            q.ExecuteNonQuery();
        }
    }

    public ValueTask DisposeAsync() => _file.Connection.DisposeAsync();
}
