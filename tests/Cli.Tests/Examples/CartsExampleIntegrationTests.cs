using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using FluentAssertions;
using Sluice.TestSupport;

namespace Sluice.Cli.Tests.Examples;

/// <summary>
/// The commands of examples/carts/README.md, run as written against the servers it names: a Kafka broker (librdkafka's
/// mock cluster; the README's kcat step is the same key|payload produce), kinesalite with feed-kinesis.js, a Pub/Sub
/// server with feed-pubsub.js and the official Node client, and redis-server read back with redis-cli. Each run is
/// `sluice run ... --idle-exit` in a fresh folder (the default stores), then `sluice get`.
/// </summary>
public sealed class CartsExampleIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-carts-").FullName;
    private static readonly string Example = Sluice.TestSupport.Repository.Path("examples", "carts");
    private static readonly string Defs = Path.Combine(Example, "sluice.yaml");
    private static readonly string Recording = Path.Combine(Example, "carts.jsonl");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<string> NodeAsync(string script, string[] args, Dictionary<string, string>? environment = null) =>
        NodeServer.RunScriptAsync(Sluice.TestSupport.Repository.Root, Path.Combine(Example, script), args, environment);

    [Fact]
    public async Task Kafka()
    {
        using var cluster = new KafkaMockCluster();
        cluster.CreateTopic("carts");
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            foreach (var line in File.ReadLines(Recording).Where(l => l.Trim().Length > 0))
            {
                var m = JsonDocument.Parse(line).RootElement;
                await producer.ProduceAsync("carts", new Message<string, string> { Key = m.GetProperty("key").GetString()!, Value = m.GetProperty("payload").GetString()! });
            }
        }
        await RunAndCheckAsync("carts_stream", new() { ["KAFKA_BOOTSTRAP"] = cluster.BootstrapServers });
    }

    [Fact]
    public async Task Kinesis()
    {
        await using var kinesalite = await Kinesalite.StartAsync();
        (await NodeAsync("feed-kinesis.js", [kinesalite.Endpoint, "carts", Recording])).Should().Contain("put 4 records into stream carts");
        await RunAndCheckAsync("carts_from_kinesis", new() { ["KINESIS_ENDPOINT"] = kinesalite.Endpoint });
    }

    [Fact]
    public async Task PubSub()
    {
        await using var server = await LoopbackPubSub.StartAsync();
        var emulator = new Dictionary<string, string> { ["PUBSUB_EMULATOR_HOST"] = server.Host };
        (await NodeAsync("feed-pubsub.js", ["local", "carts", "carts-sluice", Recording], emulator)).Should().Contain("published 4 messages to carts");
        await RunAndCheckAsync("carts_from_pubsub", emulator);
    }

    [Fact]
    public async Task Redis_as_the_online_store()
    {
        await using var redis = await RedisServerProcess.StartAsync(durable: false);
        var (code, _, err) = Cli.Run(["replay", Defs, Recording, "--resolver", "carts_stream", "--online", redis.Uri,
            "--offline", Path.Combine(_dir, "offline"), "--dead-letter", Path.Combine(_dir, "dead.jsonl")]);
        code.Should().Be(0, err);
        (code, var output, err) = Cli.Run(["get", Defs, "Cart", "c-3", "--online", redis.Uri]);
        code.Should().Be(0, err);
        CheckCartThree(output);
        var redisCli = Process.Start(new ProcessStartInfo("redis-cli", ["-p", redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "HGET", "sluice:cart:c-3", "cart.total_qty"])
            { RedirectStandardOutput = true })!;
        var field = (await redisCli.StandardOutput.ReadToEndAsync()).Trim();
        await redisCli.WaitForExitAsync();
        field.Split(' ').Should().HaveCount(3).And.EndWith("7", "the field is '<feature time µs> <expiry|-> <json value>'");
    }

    private async Task RunAndCheckAsync(string resolver, Dictionary<string, string> environment)
    {
        using var run = SluiceProcess.Start(_dir, ["run", Defs, "--resolver", resolver, "--idle-exit", "3"], environment);
        var (code, _, err) = await SluiceProcess.ExitAsync(run, TimeSpan.FromMinutes(2));
        code.Should().Be(0, err);
        using var get = SluiceProcess.Start(_dir, ["get", Defs, "Cart", "c-3"], environment);
        var (getCode, output, getErr) = await SluiceProcess.ExitAsync(get, TimeSpan.FromMinutes(1));
        getCode.Should().Be(0, getErr);
        CheckCartThree(output);
    }

    private static void CheckCartThree(string json)
    {
        var cart = JsonDocument.Parse(json).RootElement;
        cart.GetProperty("cart.total_qty").GetInt64().Should().Be(7);
        cart.GetProperty("cart.skus").EnumerateArray().Select(s => s.GetString()).Should().Equal("GIFT", "TEA");
        cart.GetProperty("cart.has_gift").GetBoolean().Should().BeTrue();
    }
}
