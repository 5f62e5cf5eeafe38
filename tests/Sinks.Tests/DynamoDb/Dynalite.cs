using System.Diagnostics;

namespace Sluice.Sinks.Tests.DynamoDb;

/// <summary>dynalite (npm, run with node) on a free loopback port: a DynamoDB-compatible server for one test class.</summary>
internal sealed class Dynalite : IAsyncDisposable
{
    private readonly Process _node;

    private Dynalite(Process node, int port)
    {
        _node = node;
        Port = port;
    }

    public int Port { get; }

    public string Uri(string table) => $"dynamodb://127.0.0.1:{Port}/{table}";

    public static async Task<Dynalite> StartAsync()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) dir = dir.Parent;
        var tool = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root (Pipeline.sln) not found"), "tools", "dynalite");
        if (!Directory.Exists(Path.Combine(tool, "node_modules", "dynalite")))
            throw new InvalidOperationException($"dynalite is not installed: run 'npm ci' in {tool} (.ci/run does)");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tool };
        start.ArgumentList.Add("run.js");
        start.ArgumentList.Add("0");
        var node = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
            throw new InvalidOperationException($"dynalite did not start: {line}{await node.StandardError.ReadToEndAsync()}");
        return new Dynalite(node, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        _node.Kill();
        await _node.WaitForExitAsync();
        _node.Dispose();
    }
}
