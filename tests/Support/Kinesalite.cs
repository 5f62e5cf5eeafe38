
namespace Sluice.TestSupport;

/// <summary>kinesalite (npm, run with node) on a free loopback port: a Kinesis-compatible server for one test class.</summary>
public sealed class Kinesalite : IAsyncDisposable
{
    private readonly NodeServer _server;

    private Kinesalite(NodeServer server) => _server = server;

    public string Endpoint => $"http://127.0.0.1:{_server.Port}";

    public static async Task<Kinesalite> StartAsync() => new(await NodeServer.StartAsync("kinesalite"));

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
