using System.Text;
using System.Text.Json;
using FluentAssertions;
using Sluice.Clients;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Sinks;
using Sluice.TestSupport;

namespace Sluice.Sources.Tests.Kinesis;

/// <summary>
/// Kinesis resolvers end to end against kinesalite (a Kinesis-compatible server on loopback, started per class) over
/// the Kinesis JSON API with SigV4-signed requests: every shard read, checkpoints only over acknowledged records,
/// resumption after a stop, a split shard followed to its children, a Kinesis sink and a dead-letter stream.
/// </summary>
public sealed class KinesisRunIntegrationTests : IAsyncLifetime, IDisposable
{
    private Kinesalite _server = null!;
    private KinesisClient _client = null!;
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-kinesis-").FullName;

    public async Task InitializeAsync()
    {
        _server = await Kinesalite.StartAsync();
        _client = new KinesisClient(new Uri(_server.Endpoint), "us-east-1", "test", "test");
    }

    public async Task DisposeAsync()
    {
        Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose() => _client?.Dispose();

    private string Yaml(string stream) => $$"""
        features:
          User:
            user_id: {type: int64, primary: true}
            full_name: string
            email_address: string?
        messages:
          UserMessage: {id: int64, name: string, email: string?}
        sources:
          users: {kind: kinesis, stream_name: {{stream}}, region_name: us-east-1, endpoint_url: "{{_server.Endpoint}}",
                  aws_access_key_id: test, aws_secret_access_key: test, dead_letter_queue_topic: {{stream}}-dlq}
          users_out: {kind: kinesis, stream_name: {{stream}}-out, region_name: us-east-1, endpoint_url: "{{_server.Endpoint}}"}
        resolvers:
          users_from_kinesis:
            source: users
            message_type: UserMessage
            output_features:
              User.user_id: _.id
              User.full_name: _.name
              User.email_address: _.email
            deduplication: {on: _.id, within: 1h}
            sink: {send_to: users_out, output_features: [User.user_id, User.full_name], format: json}
        """;

    private CompiledDefinitions Definitions(string stream) =>
        DefinitionCompiler.CompileText(Yaml(stream), "kinesis.yaml", TestDefinitions.Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));

    /// <summary>Runs the resolver with the Kinesis source tuned by <paramref name="source"/> (a quick poll by default), until idle 1.5 s or <paramref name="stop"/>.</summary>
    private Task<IReadOnlyDictionary<string, OutcomeCounts>> Run(string stream, KinesisSourceOptions? source = null,
        Action<long, IReadOnlyDictionary<string, OutcomeCounts>>? progress = null, CancellationToken stop = default) =>
        TestRuns.RunAsync(Definitions(stream), TestRuns.In(_dir) with { IdleExit = stop.CanBeCanceled ? null : TimeSpan.FromSeconds(1.5), Progress = progress },
            TestDefinitions.Connectors.With(new KinesisSourceKind(source ?? new KinesisSourceOptions { Poll = TimeSpan.FromMilliseconds(50) })), stop);

    private static byte[] User(long id) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { id, name = $"user {id}", email = $"u{id}@example.com" }));

    private async Task PutUsers(string stream, IEnumerable<long> ids) =>
        await _client.PutRecordsAsync(stream, ids.Select(i => (User(i), $"key-{i}")).ToList(), CancellationToken.None);

    private async Task<string?> Online(string stream, long id)
    {
        await using var store = await SqliteOnlineStore.OpenAsync(Path.Combine(_dir, "online.db"));
        return await store.GetAsync(Definitions(stream).Classes.Single(), id.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<List<string>> ReadAll(string stream)
    {
        var result = new List<string>();
        foreach (var shard in await _client.ListShardsAsync(stream, CancellationToken.None))
        {
            var it = await _client.GetShardIteratorAsync(stream, shard.ShardId, "TRIM_HORIZON", null, CancellationToken.None);
            var (records, _, _) = await _client.GetRecordsAsync(it, 10_000, CancellationToken.None);
            result.AddRange(records.Select(r => Encoding.UTF8.GetString(r.Data)));
        }
        return result;
    }

    [Fact]
    public async Task Every_shard_is_read_checkpointed_and_resumed_with_sink_and_dead_letter_streams()
    {
        const string stream = "users";
        foreach (var (s, n) in new[] { (stream, 4), (stream + "-out", 1), (stream + "-dlq", 1) }) await _client.CreateStreamAsync(s, n, CancellationToken.None);
        await PutUsers(stream, Enumerable.Range(1, 300).Select(i => (long)i));
        await _client.PutRecordsAsync(stream, [(Encoding.UTF8.GetBytes("{broken"), "bad-1")], CancellationToken.None);

        var counts = await Run(stream).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_kinesis"].Written.Should().Be(300);
        counts["users_from_kinesis"].ParseFailed.Should().Be(1);
        (await Online(stream, 123)).Should().Contain("\"user.full_name\": \"user 123\"");

        var sunk = await ReadAll(stream + "-out");
        sunk.Should().HaveCount(300).And.Contain("""{"user.user_id":7,"user.full_name":"user 7"}""");
        var dead = (await ReadAll(stream + "-dlq")).Should().ContainSingle().Subject;
        dead.Should().Contain("\"sluice-resolver\",\"users_from_kinesis\"").And.Contain("{broken".Replace("{", "{", StringComparison.Ordinal)).And.Contain("sluice-source");

        // A second run resumes after the checkpoints: only the new records are read.
        await PutUsers(stream, [1001, 1002]);
        counts = await Run(stream).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_kinesis"].Total.Should().Be(2);
        counts["users_from_kinesis"].Written.Should().Be(2);
    }

    [Fact]
    public async Task A_split_shard_is_followed_to_its_children_after_the_parent_and_nothing_is_lost()
    {
        const string stream = "resharded";
        foreach (var (s, n) in new[] { (stream, 1), (stream + "-out", 1), (stream + "-dlq", 1) }) await _client.CreateStreamAsync(s, n, CancellationToken.None);
        await PutUsers(stream, Enumerable.Range(1, 100).Select(i => (long)i));
        var parent = (await _client.ListShardsAsync(stream, CancellationToken.None)).Single();
        await _client.SplitShardAsync(stream, parent.ShardId, "170141183460469231731687303715884105728", CancellationToken.None);
        await _client.WaitActiveAsync(stream, CancellationToken.None);
        await PutUsers(stream, Enumerable.Range(101, 100).Select(i => (long)i));
        (await _client.ListShardsAsync(stream, CancellationToken.None)).Should().HaveCount(3);

        var counts = await Run(stream).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_kinesis"].Written.Should().Be(200);
        (await Online(stream, 150)).Should().Contain("\"user.full_name\": \"user 150\"");
        (await Online(stream, 50)).Should().Contain("\"user.full_name\": \"user 50\"");
    }

    [Fact]
    public async Task A_stop_in_the_middle_loses_nothing_and_redelivered_records_are_not_duplicates()
    {
        const string stream = "stopped";
        foreach (var (s, n) in new[] { (stream, 2), (stream + "-out", 1), (stream + "-dlq", 1) }) await _client.CreateStreamAsync(s, n, CancellationToken.None);
        await PutUsers(stream, Enumerable.Range(1, 2000).Select(i => (long)i));
        using (var stop = new CancellationTokenSource())
        {
            var reading = new TaskCompletionSource();
            var first = Run(stream, new KinesisSourceOptions { Limit = 100, Poll = TimeSpan.FromMilliseconds(50) },
                (messages, _) => { if (messages > 0) reading.TrySetResult(); }, stop.Token);
            await reading.Task.WaitAsync(TimeSpan.FromMinutes(1)); // stopped mid-stream: 100 records a call, 2,000 to read
            await stop.CancelAsync();
            await first.WaitAsync(TimeSpan.FromMinutes(2));
        }
        var counts = await Run(stream).WaitAsync(TimeSpan.FromMinutes(2));
        counts["users_from_kinesis"].Duplicate.Should().Be(0, "records read again after the stop keep their positions: redeliveries");
        for (long id = 1; id <= 2000; id += 97) (await Online(stream, id)).Should().NotBeNull($"user {id} was written");
        (await Online(stream, 2000)).Should().NotBeNull();
    }
}
