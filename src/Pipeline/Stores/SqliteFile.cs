using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sluice.Pipeline.Stores;

/// <summary>
/// What the embedded SQLite stores share: opening a file (WAL, synchronous=NORMAL, a busy timeout, the store's own
/// setup), one transaction around a unit of raw-API work, and errors that name the store and what it was doing.
/// </summary>
internal sealed class SqliteFile(SqliteConnection connection, string store)
{
    /// <summary>The open connection.</summary>
    public SqliteConnection Connection { get; } = connection;

    /// <summary>The native handle the raw API binds and steps on.</summary>
    public sqlite3 Db => Connection.Handle!;

    /// <summary>Opens (creating the file and its folder if needed) and runs <paramref name="setup"/> after the shared pragmas.</summary>
    public static async Task<SqliteFile> OpenAsync(string path, string store, string setup, CancellationToken cancellationToken, int? pageSize = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = (pageSize is { } size ? $"PRAGMA page_size = {size};\n" : "")
                + "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;\n" + setup;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        return new SqliteFile(connection, store);
    }

    /// <summary>Runs <paramref name="work"/> in one transaction: committed when it returns, rolled back when it throws.</summary>
    public void InTransaction(Action work)
    {
        Exec("BEGIN");
        try
        {
            work();
            Exec("COMMIT");
        }
        catch
        {
            raw.sqlite3_exec(Db, "ROLLBACK");
            throw;
        }
    }

    /// <summary>Prepares a statement for the raw API.</summary>
    public sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(Db, sql, out var stmt), "preparing a statement");
        return stmt;
    }

    /// <summary>Throws unless <paramref name="rc"/> is SQLITE_OK.</summary>
    public void Check(int rc, string doing)
    {
        if (rc != raw.SQLITE_OK) throw Error(rc, doing);
    }

    /// <summary>The error for <paramref name="rc"/>: "&lt;store&gt; (SQLite): &lt;doing&gt;: &lt;SQLite's message&gt;".</summary>
    public SqliteException Error(int rc, string doing) => new($"{store} (SQLite): {doing}: {raw.sqlite3_errmsg(Db).utf8_to_string()}", rc);

    private void Exec(string sql)
    {
        int rc = raw.sqlite3_exec(Db, sql);
        if (rc != raw.SQLITE_OK) throw Error(rc, sql);
    }
}
