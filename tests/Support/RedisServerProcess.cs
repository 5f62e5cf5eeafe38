using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sluice.TestSupport;

/// <summary>
/// A real <c>redis-server</c> (the Debian package) on a free loopback port in a temp folder, stopped by its pid: what
/// tests and benchmarks run against. It keeps an append-only file (fsync always), so that <see cref="RestartAsync"/>
/// comes back with the data, as a production Redis would.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-redis-").FullName;
    private readonly string? _password;
    private readonly bool _durable, _cluster;

    private RedisServerProcess(int port, string? password, bool durable, bool cluster)
    {
        Port = port;
        _password = password;
        _durable = durable;
        _cluster = cluster;
    }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>The store URI, with the password if there is one.</summary>
    public string Uri => _password is null ? $"redis://127.0.0.1:{Port}" : $"redis://:{_password}@127.0.0.1:{Port}";

    /// <summary>
    /// Starts a server, with <c>requirepass</c> when <paramref name="password"/> is given, and waits until it accepts
    /// connections. <paramref name="durable"/> keeps an append-only file fsynced on every write (restart tests); without
    /// it the server keeps nothing on disk (benchmarks).
    /// </summary>
    public static async Task<RedisServerProcess> StartAsync(string? password = null, bool durable = true) =>
        await StartAsync(password, durable, cluster: false);

    /// <summary>A node for a Redis Cluster (<c>cluster-enabled</c>; its bus on port + 10000): <see cref="RedisCluster"/> starts three.</summary>
    internal static async Task<RedisServerProcess> StartAsync(string? password, bool durable, bool cluster)
    {
        var server = new RedisServerProcess(FreePort(cluster), password, durable, cluster);
        await server.StartProcessAsync();
        return server;
    }

    private static int FreePort(bool withBus)
    {
        while (true)
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            if (!withBus) return port;
            if (port + 10000 > 65535) continue;
            try
            {
                using var bus = new TcpListener(IPAddress.Loopback, port + 10000);
                bus.Start();
                return port;
            }
            catch (SocketException) { } // the bus port is taken: try another
        }
    }

    private string PidFile => Path.Combine(_dir, "redis.pid");

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", _durable ? "yes" : "no", "--appendfsync", "always", "--daemonize", "yes", "--dir", _dir, "--pidfile", PidFile })
            start.ArgumentList.Add(a);
        if (_password is not null) { start.ArgumentList.Add("--requirepass"); start.ArgumentList.Add(_password); }
        if (_cluster)
            foreach (var a in new[] { "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000" })
                start.ArgumentList.Add(a);
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

    /// <summary>CPU time the server has used so far (Linux /proc; zero elsewhere): benchmarks split the work between client and server with it.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            int pid = int.Parse(File.ReadAllText(PidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>Stops the server (SIGKILL: what it acknowledged is in its append-only file).</summary>
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

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
