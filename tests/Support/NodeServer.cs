using System.Diagnostics;

namespace Sluice.TestSupport;

/// <summary>
/// A test server that runs in node from <c>tools/&lt;tool&gt;</c> (dynalite, kinesalite): started on a free loopback port
/// (its run.js prints "listening PORT"), killed on dispose.
/// </summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly Process _node;

    private NodeServer(Process node, int port)
    {
        _node = node;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The tool's folder, <c>tools/&lt;tool&gt;</c> of the repository this runs from.</summary>
    public static string ToolDirectory(string tool)
    {
        return Repository.Path("tools", tool);
    }

    /// <summary>
    /// Runs <c>node SCRIPT ARGS...</c> in <paramref name="workingDirectory"/> to its end (a minute at most) and returns what
    /// it printed on stdout; a non-zero exit fails with what it printed on stderr.
    /// </summary>
    public static async Task<string> RunScriptAsync(string workingDirectory, string script, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var node = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        if (node.ExitCode != 0) throw new InvalidOperationException($"node {script} exited with {node.ExitCode}: {await errors}");
        return await output;
    }

    public static async Task<NodeServer> StartAsync(string tool)
    {
        var dir = ToolDirectory(tool);
        if (!Directory.Exists(Path.Combine(dir, "node_modules", tool)))
            throw new InvalidOperationException($"{tool} is not installed: run 'npm ci' in {dir} (.ci/run does)");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        start.ArgumentList.Add("run.js");
        start.ArgumentList.Add("0");
        var node = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
            throw new InvalidOperationException($"{tool} did not start: {line}{await node.StandardError.ReadToEndAsync()}");
        return new NodeServer(node, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        _node.Kill();
        await _node.WaitForExitAsync();
        _node.Dispose();
    }
}
