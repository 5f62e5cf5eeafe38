using System.Diagnostics;
using FluentAssertions;
using Microsoft.Data.Sqlite;

namespace Sluice.Cli.Tests;

/// <summary>The sluice tool as a separate process (for tests that kill it), and what it wrote to its online store.</summary>
internal static class SluiceProcess
{
    private static readonly System.Collections.Concurrent.ConcurrentBag<(int Pid, DateTime StartTime)> Started = [];

    // A test that fails before it stops its process would leave it running after the test run (a `sluice run` has no
    // end of its own): whatever is still running when the test host exits is killed.
    static SluiceProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var (pid, startTime) in Started)
            try
            {
                using var p = Process.GetProcessById(pid);
                if (p.StartTime == startTime) p.Kill(entireProcessTree: true); // the same process, not a later one given its id
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException) { } // already gone
    };

    /// <summary>
    /// Starts <c>dotnet sluice.dll ARGS</c> from the Cli project's own build output: this test folder resolves ASP.NET Core
    /// (for the loopback Pub/Sub server) from the shared framework, which the tool's runtime configuration does not load.
    /// </summary>
    public static Process Start(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(Sluice.TestSupport.Repository.Path("src", "Cli", "bin", configuration, "net10.0", "sluice.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        Started.Add((process.Id, process.StartTime));
        return process;
    }

    /// <summary>
    /// Reads a started process's output to its end and waits for it to exit; one that has not exited within
    /// <paramref name="within"/> is killed and the wait fails with what it printed.
    /// </summary>
    public static async Task<(int Code, string Out, string Err)> ExitAsync(Process process, TimeSpan within)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var exited = process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(within)) != exited)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"sluice did not exit within {within}:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// <c>sluice run</c> in <paramref name="dir"/> on a one-resolver definition (User from UserMessage) whose source
    /// <c>users</c> is <paramref name="source"/> (a YAML flow mapping), for a run that cannot start: it must exit 2 with
    /// exactly one error line and no stack trace. Returns that line.
    /// </summary>
    public static async Task<string> RunStopsAtStartAsync(string dir, string source, IReadOnlyDictionary<string, string> environment)
    {
        var defs = Path.Combine(dir, "sluice.yaml");
        File.WriteAllText(defs, $$"""
            features:
              User: {user_id: {type: int64, primary: true}, full_name: string}
            messages:
              UserMessage: {id: int64, name: string}
            sources:
              users: {{source}}
            resolvers:
              r:
                source: users
                message_type: UserMessage
                output_features: {User.user_id: _.id, User.full_name: _.name}
            """);
        using var run = Start(dir, ["run", defs, "--online", "sqlite:" + Path.Combine(dir, "online.db"), "--offline", Path.Combine(dir, "offline")], environment);
        var (code, _, err) = await ExitAsync(run, TimeSpan.FromSeconds(60));
        code.Should().Be(2, err);
        err.Should().NotContain("   at ");
        return err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).Should().ContainSingle().Subject;
    }

    /// <summary>Rows of a feature class's table in a SQLite online store; 0 while it does not exist yet or is busy.</summary>
    public static long Rows(string db, string table)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=false");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT count(*) FROM \"{table}\"";
            return (long)cmd.ExecuteScalar()!;
        }
        catch (SqliteException) { return 0; }
    }

    /// <summary>The primary keys in a SQLite online store's table (<c>user_id</c> of <c>user</c>); empty while it does not exist.</summary>
    public static HashSet<long> Ids(string db, string table, string key)
    {
        var ids = new HashSet<long>();
        if (!File.Exists(db)) return ids;
        using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=false");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM sqlite_master WHERE name = '{table}'";
        if ((long)cmd.ExecuteScalar()! == 0) return ids; // nothing written yet
        cmd.CommandText = $"SELECT \"{key}\" FROM \"{table}\"";
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) ids.Add(reader.GetInt64(0));
        return ids;
    }

    /// <summary>The values of an int64 column in every complete Parquet file under <paramref name="folder"/>.</summary>
    public static async Task<List<long>> OfflineValues(string folder, string column)
    {
        var values = new List<long>();
        if (!Directory.Exists(folder)) return values;
        foreach (var file in Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories))
        {
            await using var reader = await Parquet.ParquetReader.CreateAsync(file);
            var field = reader.Schema.GetDataFields().Single(f => f.Name == column);
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var read = new long?[group.RowCount];
                await group.ReadAsync<long>(field, read);
                values.AddRange(read.Select(v => v!.Value));
            }
        }
        return values;
    }
}
