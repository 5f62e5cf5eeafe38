using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sluice.Sinks.Tests.Redis;

/// <summary>
/// A real <c>redis-server</c> (Debian package) on a free loopback port in a temp folder, stopped by its pid. It keeps an
/// append-only file, so that <see cref="RestartAsync"/> comes back with the data, as a production Redis would.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-redis-").FullName;
    private readonly string? _password;

    private RedisServer(int port, string? password)
    {
        Port = port;
        _password = password;
    }

    public int Port { get; }
    public string Uri => _password is null ? $"redis://127.0.0.1:{Port}" : $"redis://:{_password}@127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(string? password = null)
    {
        var server = new RedisServer(FreePort(), password);
        await server.StartProcessAsync();
        return server;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private string PidFile => Path.Combine(_dir, "redis.pid");

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "yes", "--dir", _dir, "--pidfile", PidFile })
            start.ArgumentList.Add(a);
        if (_password is not null) { start.ArgumentList.Add("--requirepass"); start.ArgumentList.Add(_password); }
        using var p = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server (apt-get install -y redis-server)");
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"redis-server failed: {await p.StandardOutput.ReadToEndAsync()}{await p.StandardError.ReadToEndAsync()}");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    public async Task StopAsync()
    {
        if (!File.Exists(PidFile)) return;
        int pid = int.Parse((await File.ReadAllTextAsync(PidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            using var p = Process.GetProcessById(pid);
            p.Kill();
            await p.WaitForExitAsync();
        }
        catch (ArgumentException) { } // already gone
        File.Delete(PidFile);
    }

    /// <summary>Stops the server, waits <paramref name="down"/>, and starts it again on the same port with its data.</summary>
    public async Task RestartAsync(TimeSpan down)
    {
        await StopAsync();
        await Task.Delay(down);
        await StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
