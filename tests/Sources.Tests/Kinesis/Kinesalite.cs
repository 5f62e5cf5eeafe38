using System.Diagnostics;

namespace Sluice.Sources.Tests.Kinesis;

/// <summary>kinesalite (npm, run with node) on a free loopback port: a Kinesis-compatible server for one test class.</summary>
internal sealed class Kinesalite : IAsyncDisposable
{
    private readonly Process _node;

    private Kinesalite(Process node, int port)
    {
        _node = node;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static async Task<Kinesalite> StartAsync()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) dir = dir.Parent;
        var tool = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("repository root (Pipeline.sln) not found"), "tools", "kinesalite");
        if (!Directory.Exists(Path.Combine(tool, "node_modules", "kinesalite")))
            throw new InvalidOperationException($"kinesalite is not installed: run 'npm ci' in {tool} (.ci/run does)");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tool };
        start.ArgumentList.Add("run.js");
        start.ArgumentList.Add("0");
        var node = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
            throw new InvalidOperationException($"kinesalite did not start: {line}{await node.StandardError.ReadToEndAsync()}");
        return new Kinesalite(node, int.Parse(line["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        _node.Kill();
        await _node.WaitForExitAsync();
        _node.Dispose();
    }
}
