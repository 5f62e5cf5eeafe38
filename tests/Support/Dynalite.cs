
namespace Sluice.TestSupport;

/// <summary>dynalite (npm, run with node) on a free loopback port: a DynamoDB-compatible server for one test class.</summary>
public sealed class Dynalite : IAsyncDisposable
{
    private readonly NodeServer _server;

    private Dynalite(NodeServer server) => _server = server;

    public int Port => _server.Port;

    public string Uri(string table) => $"dynamodb://127.0.0.1:{Port}/{table}";

    public static async Task<Dynalite> StartAsync() => new(await NodeServer.StartAsync("dynalite"));

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
