using SQLitePCL;
using Sluice.Clients;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// The embedded deduplication store (<see cref="IDedupStore"/>) in a SQLite file: table <c>dedup(key, position,
/// claimed_at)</c>. Each call is one transaction, committed before it returns, so a claim is durable before its message
/// can be acknowledged and a restarted pipeline sees every claim made before the crash. Claims the stream has left
/// behind are deleted (<see cref="DedupPruning"/>), so the file follows the window, not the run.
/// </summary>
internal sealed class SqliteDedupStore : IDedupStore
{
    private readonly SqliteFile _file;
    private readonly sqlite3_stmt _select;
    private readonly sqlite3_stmt _upsert;
    private readonly sqlite3_stmt _prune;
    private readonly DedupPruning _pruning = new();

    private SqliteDedupStore(SqliteFile file)
    {
        _file = file;
        _select = file.Prepare("SELECT position, claimed_at FROM dedup WHERE key = ?1");
        _upsert = file.Prepare("INSERT OR REPLACE INTO dedup (key, position, claimed_at) VALUES (?1, ?2, ?3)");
        _prune = file.Prepare("DELETE FROM dedup WHERE claimed_at < ?1");
    }

    /// <summary>Keys held now.</summary>
    internal long HeldKeys
    {
        get
        {
            using var cmd = _file.Connection.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM dedup";
            return (long)cmd.ExecuteScalar()!;
        }
    }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteDedupStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        return new SqliteDedupStore(await SqliteFile.OpenAsync(path, "dedup store",
            "CREATE TABLE IF NOT EXISTS dedup (key TEXT PRIMARY KEY NOT NULL, position TEXT NOT NULL, claimed_at INTEGER NOT NULL) WITHOUT ROWID;",
            cancellationToken));
    }

    /// <inheritdoc/>
    public Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var result = new bool[claims.Count];
        if (claims.Count == 0) return Task.FromResult(result);
        _file.InTransaction(() =>
        {
            for (int i = 0; i < claims.Count; i++)
            {
                var c = claims[i];
                _file.Check(raw.sqlite3_bind_text(_select, 1, c.Key), "binding a key");
                var (keep, replace) = raw.sqlite3_step(_select) == raw.SQLITE_ROW
                    ? DedupRule.Decide(raw.sqlite3_column_text(_select, 0).utf8_to_string(), raw.sqlite3_column_int64(_select, 1), c)
                    : (true, true);
                raw.sqlite3_reset(_select);
                result[i] = keep;
                if (!replace) continue;
                _file.Check(raw.sqlite3_bind_text(_upsert, 1, c.Key) | raw.sqlite3_bind_text(_upsert, 2, c.Position)
                    | raw.sqlite3_bind_int64(_upsert, 3, c.MessageMicros), "binding a claim");
                int rc = raw.sqlite3_step(_upsert);
                raw.sqlite3_reset(_upsert);
                if (rc != raw.SQLITE_DONE) throw _file.Error(rc, $"claiming a key for {c.Position}");
            }
            if (_pruning.Observe(claims) is { } horizon)
            {
                _file.Check(raw.sqlite3_bind_int64(_prune, 1, horizon), "binding the prune horizon");
                int rc = raw.sqlite3_step(_prune);
                raw.sqlite3_reset(_prune);
                if (rc != raw.SQLITE_DONE) throw _file.Error(rc, "deleting claims the stream has left behind");
            }
        });
        return Task.FromResult(result);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _select.Dispose();
        _upsert.Dispose();
        _prune.Dispose();
        await _file.Connection.DisposeAsync();
    }
}
