using System.Diagnostics;
using StackExchange.Redis;

namespace Sluice.TestSupport;

/// <summary>
/// A real three-master Redis Cluster on loopback (no replicas), as DESIGN.md section 8 describes it: three
/// <c>redis-server --cluster-enabled yes</c> processes joined by <c>redis-cli --cluster create</c>. Each master keeps an
/// append-only file, so that <see cref="RestartAsync"/> brings one back with its data and its slots.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private RedisCluster(IReadOnlyList<RedisServerProcess> masters) => Masters = masters;

    /// <summary>The masters.</summary>
    public IReadOnlyList<RedisServerProcess> Masters { get; }

    /// <summary>The store URI naming every master as a seed node.</summary>
    public string Uri => "redis://" + string.Join(",", Masters.Select(m => $"127.0.0.1:{m.Port}"));

    /// <summary>Starts three masters, creates the cluster and waits until every node reports it ok.</summary>
    public static async Task<RedisCluster> StartAsync()
    {
        var masters = new List<RedisServerProcess>();
        try
        {
            for (int i = 0; i < 3; i++) masters.Add(await RedisServerProcess.StartAsync(null, durable: true, cluster: true));
            var create = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--cluster", "create" }.Concat(masters.Select(m => $"127.0.0.1:{m.Port}")).Concat(["--cluster-replicas", "0", "--cluster-yes"]))
                create.ArgumentList.Add(a);
            using (var p = Process.Start(create)!)
            {
                var output = p.StandardOutput.ReadToEndAsync();
                await p.WaitForExitAsync();
                if (p.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed: {await output}{await p.StandardError.ReadToEndAsync()}");
            }
            var cluster = new RedisCluster(masters);
            await cluster.WaitOkAsync();
            return cluster;
        }
        catch
        {
            foreach (var m in masters) await m.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until every master answers <c>cluster_state:ok</c>.</summary>
    public async Task WaitOkAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var m in Masters)
        {
            while (true)
            {
                try
                {
                    await using var c = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{m.Port},connectTimeout=2000,allowAdmin=true");
                    var info = (string?)await c.GetServer($"127.0.0.1:{m.Port}").ExecuteAsync("CLUSTER", "INFO");
                    if (info?.Contains("cluster_state:ok", StringComparison.Ordinal) == true) break;
                }
                catch (RedisException) { }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the cluster did not reach cluster_state:ok (node {m.Port})");
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Empties every master (<c>FLUSHALL</c>), so that tests sharing one cluster start from nothing.</summary>
    public async Task FlushAsync()
    {
        foreach (var m in Masters)
        {
            await using var c = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{m.Port},allowAdmin=true");
            await c.GetServer($"127.0.0.1:{m.Port}").FlushAllDatabasesAsync();
        }
    }

    /// <summary>Stops master <paramref name="index"/>, waits <paramref name="down"/>, starts it again with its data and slots.</summary>
    public Task RestartAsync(int index, TimeSpan down) => Masters[index].RestartAsync(down);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var m in Masters) await m.DisposeAsync();
    }
}
