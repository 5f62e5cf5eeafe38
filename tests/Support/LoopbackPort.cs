using System.Net;
using System.Net.Sockets;

namespace Sluice.TestSupport;

/// <summary>Loopback ports for the servers and receivers a test starts.</summary>
public static class LoopbackPort
{
    /// <summary>A port nobody listens on now (the probe that found it is closed).</summary>
    public static int Free()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
