using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources.Tests.Recording;

public sealed class RecordingFileUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-rec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<List<MessageBatch>> ReadAll(string path, int batchSize = 4096)
    {
        var result = new List<MessageBatch>();
        await foreach (var b in RecordingFile.ReadAsync(path, batchSize)) result.Add(b);
        return result;
    }

    private static string Header(MessageBatch b, int i, int h)
    {
        var s = (Apache.Arrow.StructArray)b.Headers.Values;
        int k = b.Headers.ValueOffsets[i] + h;
        return ((Apache.Arrow.StringArray)s.Fields[0]).GetString(k) + "=" + Encoding.UTF8.GetString(((Apache.Arrow.BinaryArray)s.Fields[1]).GetBytes(k));
    }

    [Fact]
    public async Task A_truncated_or_foreign_arrows_file_is_invalid_data_naming_the_file_and_how_far_it_read()
    {
        var good = Path.Combine(_dir, "good.arrows");
        var builder = new MessageBatch.Builder();
        for (int i = 0; i < 3000; i++) builder.Append("users", 0, i, 1_700_000_000_000_000, null, Encoding.UTF8.GetBytes($$"""{"id": {{i}}}"""), null);
        async IAsyncEnumerable<MessageBatch> Two()
        {
            yield return builder.Build();
            var second = new MessageBatch.Builder();
            second.Append("users", 0, 3000, 1_700_000_000_000_000, null, "{}"u8.ToArray(), null);
            yield return second.Build();
            await Task.CompletedTask;
        }
        await RecordingFile.WriteAsync(good, Two());
        var bytes = await File.ReadAllBytesAsync(good);

        var truncated = Path.Combine(_dir, "truncated.arrows");
        await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length - 200)]); // the second batch cut short
        var random = Path.Combine(_dir, "random.arrows");
        await File.WriteAllBytesAsync(random, Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());

        var read = new List<MessageBatch>();
        var cut = async () => { await foreach (var b in RecordingFile.ReadAsync(truncated)) read.Add(b); };
        (await cut.Should().ThrowAsync<InvalidDataException>()).Which.Message.Should().Contain("truncated.arrows").And.Contain("after 1 batches");
        read.Should().ContainSingle().Which.Length.Should().Be(3000, "what precedes the damage is read");
        var foreign = async () => await ReadAll(random);
        (await foreign.Should().ThrowAsync<InvalidDataException>()).Which.Message.Should().Contain("random.arrows").And.Contain("after 0 batches");
    }

    [Fact]
    public async Task Reads_what_kcat_J_prints_and_the_documented_variants()
    {
        var path = Path.Combine(_dir, "users.jsonl");
        await File.WriteAllLinesAsync(path,
        [
            """{"topic":"users","partition":2,"offset":41,"tstype":"create","ts":1700000000000,"broker":-1,"headers":["X-Chalk-MessageType","User"],"key":"123","payload":"{\"id\": 123}"}""",
            "",
            """{"topic":"users","partition":0,"offset":7,"timestamp":1700000000500,"headers":{"X-Chalk-MessageType":"Transaction"},"key":null,"value":"{\"id\": 9}"}""",
            """{"topic":"users","partition":0,"offset":8,"ts":1,"key_b64":"AP8=","value_b64":"AAEC"}""",
            """{"topic":"users","partition":0,"offset":9,"ts":2,"key":"k","payload":null}""",
        ]);
        var batches = await ReadAll(path);
        var b = batches.Single();
        b.Length.Should().Be(4);
        b.Position(0).Should().Be("users/2/41");
        b.Timestamp.GetValue(0).Should().Be(1_700_000_000_000_000);
        Encoding.UTF8.GetString(b.Key.GetBytes(0)).Should().Be("123");
        Encoding.UTF8.GetString(b.Value.GetBytes(0)).Should().Be("{\"id\": 123}");
        Header(b, 0, 0).Should().Be("X-Chalk-MessageType=User");
        Header(b, 1, 0).Should().Be("X-Chalk-MessageType=Transaction");
        b.Timestamp.GetValue(1).Should().Be(1_700_000_000_500_000);
        b.Key.IsNull(1).Should().BeTrue();
        b.Key.GetBytes(2).ToArray().Should().Equal(0x00, 0xFF);
        b.Value.GetBytes(2).ToArray().Should().Equal(0, 1, 2);
        b.Value.IsNull(3).Should().BeTrue("a payload of null is a tombstone");
    }

    [Fact]
    public async Task A_line_that_is_not_a_message_names_file_and_line()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllLinesAsync(path, ["""{"topic":"t","offset":0,"payload":"x"}""", "not json", "{}"]);
        var act = () => ReadAll(path);
        (await act.Should().ThrowAsync<InvalidDataException>()).Which.Message.Should().StartWith($"{path}:2:");
        await File.WriteAllLinesAsync(path, ["""{"topic":"t","headers":["a"]}"""]);
        (await act.Should().ThrowAsync<InvalidDataException>()).Which.Message.Should().Contain(":1:").And.Contain("flat [name, value");
    }

    [Fact]
    public async Task Arrows_and_jsonl_round_trip_identically_in_batches()
    {
        var src = Path.Combine(_dir, "src.jsonl");
        var lines = Enumerable.Range(0, 10_000).Select(i =>
            $$"""{"topic":"users","partition":{{i % 3}},"offset":{{i}},"ts":{{1_700_000_000_000L + i}},"headers":["X-Chalk-MessageType","{{(i % 2 == 0 ? "User" : "Transaction")}}"],"key":"{{i}}","payload":"{\"id\": {{i}}}"}""");
        await File.WriteAllLinesAsync(src, lines);
        var original = await ReadAll(src, 4096);
        original.Select(b => b.Length).Should().Equal(4096, 4096, 1808);

        var arrows = Path.Combine(_dir, "copy.arrows");
        await RecordingFile.WriteAsync(arrows, RecordingFile.ReadAsync(src, 4096));
        var jsonl = Path.Combine(_dir, "copy.jsonl");
        await RecordingFile.WriteAsync(jsonl, RecordingFile.ReadAsync(arrows));

        foreach (var copy in new[] { await ReadAll(arrows), await ReadAll(jsonl) })
        {
            copy.Sum(b => b.Length).Should().Be(10_000);
            var a = original.SelectMany(Rows).ToList();
            var c = copy.SelectMany(Rows).ToList();
            c.Should().Equal(a);
        }
    }

    private static IEnumerable<string> Rows(MessageBatch b)
    {
        for (int i = 0; i < b.Length; i++)
            yield return $"{b.Position(i)}|{b.Timestamp.GetValue(i)}|{Convert.ToHexString(b.Key.GetBytes(i))}|{Convert.ToHexString(b.Value.GetBytes(i))}|{Header(b, i, 0)}";
    }

    [Fact]
    public async Task Arrows_with_another_schema_is_rejected_clearly()
    {
        var path = Path.Combine(_dir, "other.arrows");
        var batch = new Apache.Arrow.RecordBatch.Builder().Append("x", false, c => c.Int32(v => v.Append(1))).Build();
        await using (var s = File.Create(path))
        using (var w = new Apache.Arrow.Ipc.ArrowStreamWriter(s, batch.Schema))
        {
            await w.WriteRecordBatchAsync(batch);
            await w.WriteEndAsync();
        }
        var act = () => ReadAll(path);
        (await act.Should().ThrowAsync<InvalidDataException>()).Which.Message.Should().Contain("7 columns");
    }
}
