using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Sluice.Clients;

/// <summary>
/// What the embedded SQLite stores share: opening a file (WAL, synchronous=FULL, a busy timeout, the store's own
/// setup), one transaction around a unit of raw-API work, and errors that name the store and what it was doing.
/// </summary>
/// <remarks>
/// A store whose raw-API work always runs one call at a time (under its own lock) can ask for a writer of its own: a
/// second connection opened without SQLite's per-connection mutex, which every bind, step and reset otherwise takes
/// and releases (ten binds a row in the online store's upsert). <see cref="Db"/> is then that connection, and
/// <see cref="Connection"/> serves reads.
/// </remarks>
internal sealed class SqliteFile(SqliteConnection connection, string store, sqlite3? writer = null)
{
    /// <summary>The open ADO.NET connection (also the raw API's unless the file has a writer of its own).</summary>
    public SqliteConnection Connection { get; } = connection;

    /// <summary>The native handle the raw API prepares, binds and steps on.</summary>
    public sqlite3 Db => writer ?? Connection.Handle!;

    /// <summary>
    /// Opens (creating the file and its folder if needed) and runs <paramref name="setup"/> after the shared pragmas;
    /// with <paramref name="ownWriter"/>, on the raw API's writer connection (see the remarks), which then must only
    /// ever be used by one thread at a time.
    /// </summary>
    public static async Task<SqliteFile> OpenAsync(string path, string store, string setup, CancellationToken cancellationToken,
        int? pageSize = null, bool ownWriter = false)
    {
        // A foreign or corrupt file, or a folder that cannot be made: said with the file's path.
        try
        {
            return await Open(path, store, setup, pageSize, ownWriter, cancellationToken);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: {e.Message}", e);
        }
    }

    private static async Task<SqliteFile> Open(string path, string store, string setup, int? pageSize, bool ownWriter, CancellationToken cancellationToken)
    {
        // An in-memory (or temporary) database exists for its one connection only: it gets no second one.
        ownWriter &= path is not ("" or ":memory:") && !path.StartsWith("file:", StringComparison.Ordinal);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        // FULL: a committed transaction survives the machine losing power (NORMAL in WAL mode may lose the last ones).
        const string Shared = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;\n";
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = (pageSize is { } size ? $"PRAGMA page_size = {size};\n" : "")
                + "PRAGMA journal_mode = WAL; " + Shared + (ownWriter ? "" : setup);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        if (!ownWriter) return new SqliteFile(connection, store);

        // The file exists now, in WAL mode (a property of the file), with its page size.
        int rc = raw.sqlite3_open_v2(path, out var db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_NOMUTEX, null);
        var file = new SqliteFile(connection, store, db);
        try
        {
            if (rc != raw.SQLITE_OK) throw file.Error(rc, "opening the writer connection");
            file.Exec(Shared + setup);
            return file;
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the writer connection (its statements must be disposed first) and the ADO.NET connection.</summary>
    public async ValueTask DisposeAsync()
    {
        writer?.Dispose();
        await Connection.DisposeAsync();
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

    /// <summary>Runs SQL without results on <see cref="Db"/>.</summary>
    public void Exec(string sql)
    {
        int rc = raw.sqlite3_exec(Db, sql);
        if (rc != raw.SQLITE_OK) throw Error(rc, sql);
    }
}
