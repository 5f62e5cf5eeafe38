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
