using System.Runtime.CompilerServices;
using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Runtime;
using Sluice.TestSupport;

namespace Sluice.Hosting.Tests;

/// <summary>
/// Hostile payloads: a million generated messages per run (JSON for the users example, prefixed protobuf for the
/// protobuf example; valid ones, valid ones with wrong types or timestamps past the year 9999, byte-level mutations of valid ones, truncations, random
/// bytes, deep nesting, huge numbers, empty and null payloads, missing headers) replayed through the whole runtime into
/// the embedded stores. Nothing throws; every message ends in exactly one outcome per resolver; every valid message is
/// written; every parse failure is a dead letter. The seed is random per run and printed on failure
/// (SLUICE_FUZZ_SEED=N replays one).
/// </summary>
public sealed class PayloadFuzzUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-fuzz-").FullName;
    private static readonly string Examples = Path.Combine(AppContext.BaseDirectory, "examples");
    private readonly int _seed = Environment.GetEnvironmentVariable("SLUICE_FUZZ_SEED") is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Generated messages handed to the runtime as a source, batch by batch.</summary>
    private sealed class Generated(Func<long, (byte[]? Payload, bool Header, bool Valid)> next, long count, string header) : IMessageSource
    {
        public long Valid { get; private set; }
        public SourceTraits Traits { get; } = new();
        public IReadOnlyList<string> Warnings => [];
        public Exception? Fault => null;
        public void Acknowledged(string topic, int partition, long nextOffset) { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public async IAsyncEnumerable<SourceEvent> ReadAsync([EnumeratorCancellation] CancellationToken stop)
        {
            var headers = new[] { new KeyValuePair<string, byte[]>("X-Chalk-MessageType", Encoding.UTF8.GetBytes(header)) };
            var builder = new MessageBatch.Builder();
            for (long i = 0; i < count && !stop.IsCancellationRequested; i++)
            {
                var (payload, withHeader, valid) = next(i);
                if (valid) Valid++;
                builder.Append("users", (int)(i % 4), i / 4, 1_700_000_000_000_000 + i, null, payload, withHeader ? headers : null);
                if (builder.Length == 4096)
                {
                    yield return SourceEvent.Of(builder.Build());
                    await Task.Yield();
                }
            }
            if (builder.Length > 0) yield return SourceEvent.Of(builder.Build());
        }
    }

    [Fact]
    public async Task Six_hundred_thousand_generated_JSON_messages_each_end_in_one_outcome()
    {
        var random = new Random(_seed);
        var source = new Generated(i => Json(random, i), 600_000, "User");
        var result = await Replay(Path.Combine(Examples, "users", "sluice.yaml"), source, "prod");
        Check(result, source, 600_000, "get_users_stream");
    }

    [Fact]
    public async Task Four_hundred_thousand_generated_protobuf_messages_each_end_in_one_outcome()
    {
        var random = new Random(_seed);
        var source = new Generated(i => Protobuf(random, i), 400_000, "User");
        var result = await Replay(Path.Combine(Examples, "protobuf-users", "sluice.yaml"), source, null);
        Check(result, source, 400_000, "get_users_stream");
    }

    private async Task<RunResult> Replay(string defs, IMessageSource source, string? environment)
    {
        var definitions = TestDefinitions.CompileFile(defs);
        try
        {
            return await PipelineRuntime.RunAsync(definitions, TestDefinitions.Connectors, TestRuns.In(_dir) with { Replay = source, Environment = environment });
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"seed {_seed}: the run threw (SLUICE_FUZZ_SEED={_seed} replays it)", e);
        }
    }

    private void Check(RunResult result, Generated source, long n, string resolver)
    {
        var because = $"seed {_seed} (SLUICE_FUZZ_SEED={_seed} replays it)";
        result.Messages.Should().Be(n, because);
        foreach (var (name, c) in result.Resolvers)
            (c.Written + c.Filtered + c.Late + c.Skipped + c.Duplicate + c.ParseFailed + c.Failed).Should().Be(n, $"{name}: every message ends in one outcome; {because}");
        var counts = result.Resolvers[resolver];
        counts.Written.Should().BeGreaterThanOrEqualTo(source.Valid, $"every valid message is written; {because}");
        counts.ParseFailed.Should().BeGreaterThan(0, "the generator makes broken messages");
        long dead = File.ReadLines(Path.Combine(_dir, "dead.jsonl")).LongCount();
        dead.Should().Be(result.Resolvers.Values.Sum(c => c.ParseFailed + c.Failed), $"every failure is one dead letter; {because}");
    }

    // ---- JSON UserMessage: {id: int64, name: string, updated_at: int64, contact_info: {phone_number: string, email_address: string?}}

    private static byte[] ValidJson(long id, Random r)
    {
        var email = r.Next(3) == 0 ? "" : $", \"email_address\": \"u{id}@x.io\"";
        return Encoding.UTF8.GetBytes($$$"""{"id": {{{id}}}, "name": "{{{Name(r)}}}", "updated_at": {{{1_700_000_000_000_000 + r.Next()}}}, "contact_info": {"phone_number": "555-{{{r.Next(10000)}}}"{{{email}}}}}""");
    }

    private static string Name(Random r) => r.Next(8) switch
    {
        0 => "\\u00e9\\ud83d\\ude00 \\\"quoted\\\"",
        1 => "ünïcødé 名前",
        2 => "",
        _ => $"name {r.Next()}",
    };

    private static readonly string[] WrongValues = ["\"12\"", "1.5", "1e400", "-0", "9223372036854775808", "true", "null", "[]", "{}", "\"\""];

    private static (byte[]?, bool, bool) Json(Random r, long i)
    {
        var valid = ValidJson(i, r);
        switch (r.Next(13))
        {
            case < 4: return (valid, true, true);
            case 11: // valid, with a feature time far outside the calendar (year 285,000): written with a null timestamp
                return (Encoding.UTF8.GetBytes($$$"""{"id": {{{i}}}, "name": "n", "updated_at": {{{9_000_000_000_000_000_000 + r.Next()}}}, "contact_info": {"phone_number": "1"}}"""), true, true);
            case 4: return (valid, false, false); // no header: filtered
            case 5: // a field of the wrong type
            {
                var fields = new[] { "\"id\": ", "\"name\": ", "\"updated_at\": ", "\"contact_info\": " };
                var text = Encoding.UTF8.GetString(valid);
                var field = fields[r.Next(fields.Length)];
                int at = text.IndexOf(field, StringComparison.Ordinal) + field.Length;
                int end = field == "\"contact_info\": " ? text.LastIndexOf('}') : text.IndexOfAny([',', '}'], at);
                return (Encoding.UTF8.GetBytes(text[..at] + WrongValues[r.Next(WrongValues.Length)] + text[end..]), true, false);
            }
            case 6: return (Mutate(valid, r), true, false);
            case 7: return (valid[..r.Next(valid.Length)], true, false);
            case 8: return (RandomBytes(r, r.Next(0, 200)), true, false);
            case 9:
            {
                int depth = r.Next(10, 5000);
                return (Encoding.UTF8.GetBytes(new string('[', depth) + new string(']', r.Next(2) == 0 ? depth : depth / 2)), true, false);
            }
            case 10: return (r.Next(2) == 0 ? null : [], true, false);
            default: return (Encoding.UTF8.GetBytes($$$"""{"id": {{{i}}}, "name": "n", "updated_at": 1, "contact_info": {"phone_number": "1"}, "extra": {"deep": [1, 2, {"x": null}]}}"""), true, true);
        }
    }

    // ---- protobuf acme.User behind a 6-byte prefix: id=1 uint32, name=2 string, user_type=3 enum, contact_info=4, updated_at=5 uint64

    private static byte[] ValidProto(long id, Random r, int userType)
    {
        var m = new MemoryStream();
        m.Write("PREFIX"u8);
        Tag(m, 1, 0); Varint(m, (ulong)(uint)id);
        var name = Encoding.UTF8.GetBytes(Name(r));
        Tag(m, 2, 2); Varint(m, (ulong)name.Length); m.Write(name);
        Tag(m, 3, 0); Varint(m, (ulong)userType);
        var contact = new MemoryStream();
        var phone = Encoding.UTF8.GetBytes("555");
        Tag(contact, 1, 2); Varint(contact, (ulong)phone.Length); contact.Write(phone);
        Tag(m, 4, 2); Varint(m, (ulong)contact.Length); m.Write(contact.ToArray());
        Tag(m, 5, 0); Varint(m, 1_700_000_000_000_000UL + (ulong)r.Next());
        return m.ToArray();
    }

    private static void Tag(Stream s, int field, int wire) => Varint(s, (ulong)(field << 3 | wire));

    private static void Varint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    private static (byte[]?, bool, bool) Protobuf(Random r, long i)
    {
        switch (r.Next(10))
        {
            case < 4: return (ValidProto(i, r, 2), true, true);
            case 4: return (ValidProto(i, r, 1), true, false); // a guest: skipped by the parse expression
            case 5: return (Mutate(ValidProto(i, r, 2), r), true, false);
            case 6: { var v = ValidProto(i, r, 2); return (v[..r.Next(v.Length)], true, false); }
            case 7: return (RandomBytes(r, r.Next(0, 200)), true, false);
            case 8: return ([.. "PREFIX"u8, .. RandomBytes(r, r.Next(0, 60))], true, false);
            default: return (r.Next(2) == 0 ? null : [], true, false);
        }
    }

    private static byte[] RandomBytes(Random r, int n)
    {
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    private static byte[] Mutate(byte[] valid, Random r)
    {
        var b = new List<byte>(valid);
        for (int k = r.Next(1, 4); k > 0 && b.Count > 0; k--)
        {
            int at = r.Next(b.Count);
            switch (r.Next(3))
            {
                case 0: b[at] = (byte)r.Next(256); break;
                case 1: b.RemoveAt(at); break;
                default: b.Insert(at, (byte)r.Next(256)); break;
            }
        }
        return [.. b];
    }
}
