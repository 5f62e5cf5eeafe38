using System.Net;
using System.Text;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Operations;

/// <summary>
/// With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, a replay pushes its metrics over OTLP (http/protobuf here) to a receiver
/// on loopback: the request arrives at <c>/v1/metrics</c> and names the meter's instruments.
/// </summary>
public sealed class OtlpReceiverIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-otlp-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_replay_exports_its_metrics_to_the_otlp_endpoint()
    {
        int port = LoopbackPort.Free();
        using var receiver = new HttpListener();
        receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
        receiver.Start();
        var bodies = new List<(string Path, byte[] Body)>();
        var serving = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                HttpListenerContext context;
                try { context = await receiver.GetContextAsync(); }
                catch (HttpListenerException) { return; }
                catch (ObjectDisposedException) { return; }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                lock (bodies) bodies.Add((context.Request.Url!.AbsolutePath, body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        };
        using var replay = SluiceProcess.Start(_dir, ["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl")], environment);
        await replay.WaitForExitAsync();
        replay.ExitCode.Should().Be(0, await replay.StandardError.ReadToEndAsync());
        receiver.Stop();
        await serving;

        List<(string Path, byte[] Body)> received;
        lock (bodies) received = bodies.ToList();
        received.Should().Contain(r => r.Path == "/v1/metrics", "the metrics are flushed before the process exits");
        var text = Encoding.UTF8.GetString(received.Where(r => r.Path == "/v1/metrics").SelectMany(r => r.Body).ToArray());
        text.Should().Contain("sluice.messages").And.Contain("get_users_stream").And.Contain("parse_failed");
    }
}
