using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// The embedded deduplication store (<see cref="IDedupStore"/>) in a SQLite file: table <c>dedup(key, position,
/// claimed_at)</c>. Each call is one transaction, committed before it returns, so a claim is durable before its message
/// can be acknowledged and a restarted pipeline sees every claim made before the crash.
/// </summary>
public sealed class SqliteDedupStore : IDedupStore
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _select;
    private readonly sqlite3_stmt _upsert;

    private SqliteDedupStore(SqliteConnection connection)
    {
        _connection = connection;
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, "SELECT position, claimed_at FROM dedup WHERE key = ?1", out _select));
        Check(db, raw.sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO dedup (key, position, claimed_at) VALUES (?1, ?2, ?3)", out _upsert));
    }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/>.</summary>
    public static async Task<SqliteDedupStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = """
                PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS dedup (key TEXT PRIMARY KEY NOT NULL, position TEXT NOT NULL, claimed_at INTEGER NOT NULL) WITHOUT ROWID;
                """;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return new SqliteDedupStore(connection);
    }

    /// <inheritdoc/>
    public Task<bool[]> ClaimAsync(IReadOnlyList<DedupClaim> claims, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var result = new bool[claims.Count];
        if (claims.Count == 0) return Task.FromResult(result);
        var db = _connection.Handle!;
        Exec(db, "BEGIN");
        try
        {
            for (int i = 0; i < claims.Count; i++)
            {
                var c = claims[i];
                Check(db, raw.sqlite3_bind_text(_select, 1, c.Key));
                var (keep, replace) = raw.sqlite3_step(_select) == raw.SQLITE_ROW
                    ? DedupRule.Decide(raw.sqlite3_column_text(_select, 0).utf8_to_string(), raw.sqlite3_column_int64(_select, 1), c)
                    : (true, true);
                raw.sqlite3_reset(_select);
                result[i] = keep;
                if (!replace) continue;
                Check(db, raw.sqlite3_bind_text(_upsert, 1, c.Key));
                Check(db, raw.sqlite3_bind_text(_upsert, 2, c.Position));
                Check(db, raw.sqlite3_bind_int64(_upsert, 3, c.MessageMicros));
                int rc = raw.sqlite3_step(_upsert);
                raw.sqlite3_reset(_upsert);
                if (rc != raw.SQLITE_DONE) throw Error(db, rc);
            }
            Exec(db, "COMMIT");
        }
        catch
        {
            raw.sqlite3_exec(db, "ROLLBACK");
            throw;
        }
        return Task.FromResult(result);
    }

    private static void Exec(sqlite3 db, string sql)
    {
        int rc = raw.sqlite3_exec(db, sql);
        if (rc != raw.SQLITE_OK) throw Error(db, rc);
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc != raw.SQLITE_OK) throw Error(db, rc);
    }

    private static SqliteException Error(sqlite3 db, int rc) => new($"dedup store (SQLite): {raw.sqlite3_errmsg(db).utf8_to_string()}", rc);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _select.Dispose();
        _upsert.Dispose();
        await _connection.DisposeAsync();
    }
}
