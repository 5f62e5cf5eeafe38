using System.Reflection;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Graph.Blocks;
using Sluice.Pipeline.Messages;
using Sluice.Sinks;

namespace Sluice;

/// <summary>One message to feed a resolver under test: payload, key, timestamp and headers as a broker would deliver them.</summary>
/// <param name="Value">The payload (null is a tombstone).</param>
/// <param name="Key">The message key.</param>
/// <param name="Timestamp">The message timestamp (UTC); by default the test's clock.</param>
/// <param name="Headers">Headers, in order.</param>
public sealed record TestMessage(byte[]? Value, byte[]? Key = null, DateTime? Timestamp = null, IReadOnlyList<KeyValuePair<string, byte[]>>? Headers = null)
{
    /// <summary>A JSON (or any text) payload with string headers.</summary>
    public static TestMessage Text(string payload, string? key = null, DateTime? timestamp = null, params (string Name, string Value)[] headers) =>
        new(Encoding.UTF8.GetBytes(payload), key is null ? null : Encoding.UTF8.GetBytes(key), timestamp,
            headers.Select(h => KeyValuePair.Create(h.Name, Encoding.UTF8.GetBytes(h.Value))).ToList());

    /// <summary>A message object serialized as JSON with <paramref name="naming"/> (snake_case by default), as a producer would.</summary>
    public static TestMessage Json<T>(T message, string? key = null, DateTime? timestamp = null, JsonNamingPolicy? naming = null, params (string Name, string Value)[] headers) =>
        Text(JsonSerializer.Serialize(message, new JsonSerializerOptions { PropertyNamingPolicy = naming ?? JsonNamingPolicy.SnakeCaseLower }), key, timestamp, headers);
}

/// <summary>What a resolver made of one test message.</summary>
/// <param name="Index">The message's index in the input.</param>
/// <param name="Outcome">written, filtered, late, skipped, duplicate, parse_failed or failed.</param>
/// <param name="Reason">Why it failed (parse_failed, failed), else null.</param>
/// <param name="Parsed">The parsed message as plain values (structs as dictionaries by field name), when it parsed.</param>
/// <param name="Features">The output features by FQN (timestamps as UTC <see cref="DateTime"/>), when written.</param>
public sealed record TestOutcome(int Index, string Outcome, string? Reason, object? Parsed, IReadOnlyDictionary<string, object?>? Features);

/// <summary>The result of <see cref="ResolverTest.RunAsync(IResolver, IEnumerable{TestMessage}, DateTime?, CancellationToken)"/>.</summary>
public sealed class ResolverTestResult
{
    internal ResolverTestResult(IReadOnlyList<TestOutcome> messages, RecordBatch features, OutcomeCounts counts)
    {
        Messages = messages;
        Features = features;
        Counts = counts;
    }

    /// <summary>One entry per input message, in input order.</summary>
    public IReadOnlyList<TestOutcome> Messages { get; }
    /// <summary>The written feature rows as Arrow (FQN columns and <c>__ts__</c>), as the stores would receive them.</summary>
    public RecordBatch Features { get; }
    /// <summary>How many messages ended in each outcome.</summary>
    public OutcomeCounts Counts { get; }

    /// <summary>The written rows as <typeparamref name="T"/>, properties matched to features by snake_case name.</summary>
    public IReadOnlyList<T> Rows<T>() where T : new()
    {
        var props = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        var rows = new List<T>();
        foreach (var m in Messages.Where(m => m.Features is not null))
        {
            var row = new T();
            foreach (var p in props)
            {
                var value = m.Features!.FirstOrDefault(f => f.Key.EndsWith("." + ClrSchemas.Snake(p.Name), StringComparison.Ordinal)).Value;
                if (value is null) continue;
                var target = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
                p.SetValue(row, target == value.GetType() ? value : Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture));
            }
            rows.Add(row);
        }
        return rows;
    }
}

/// <summary>
/// Runs a resolver over messages in memory, like Chalk's <c>test_streaming_resolver</c>: header filters, late drop,
/// parse, deduplication (within the call), projection and derived features, without stores or brokers.
/// </summary>
public static class ResolverTest
{
    /// <summary>Compiles <paramref name="resolver"/> and runs it over <paramref name="messages"/>; <paramref name="now"/> is the processing time for late arrival.</summary>
    public static Task<ResolverTestResult> RunAsync(IResolver resolver, IEnumerable<TestMessage> messages, DateTime? now = null, CancellationToken cancellationToken = default) =>
        RunAsync(StreamResolver.Compile(Defaults.Connectors, resolver).Resolvers.Single(), messages, now, cancellationToken);

    /// <summary>Runs a compiled resolver (e.g. from a YAML file) over <paramref name="messages"/>.</summary>
    public static async Task<ResolverTestResult> RunAsync(ResolverPlan plan, IEnumerable<TestMessage> messages, DateTime? now = null, CancellationToken cancellationToken = default)
    {
        long nowMicros = Micros(now ?? DateTime.UtcNow);
        var b = new MessageBatch.Builder();
        int n = 0;
        foreach (var m in messages)
            b.Append("test", 0, n++, m.Timestamp is { } t ? Micros(t) : nowMicros, m.Key, m.Value, m.Headers);
        var resolved = new ResolverStep(plan).Process(b.Build(), nowMicros);
        await using (var dedup = new InMemoryDedupStore())
            resolved = await DedupBlock.DeduplicateAsync(plan, resolved, dedup, cancellationToken).ConfigureAwait(false);
        resolved = await OnlineStep.ApplyAsync(plan, resolved, cancellationToken).ConfigureAwait(false);

        var parsed = new object?[n];
        if (resolved.Parsed is var (column, message))
        {
            for (int r = 0; r < message.Length; r++) parsed[message[r]] = Plain(ArrowValues.GetRow(column, r, plan.MessageType.WithNullable(true)), plan.MessageType);
        }
        var features = new Dictionary<string, object?>?[n];
        var schema = resolved.Features.Schema;
        for (int r = 0; r < resolved.Features.Length; r++)
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (int c = 0; c < schema.FieldsList.Count; c++)
            {
                var f = schema.FieldsList[c];
                if (f.Name == "__ts__") continue;
                var type = ArrowValues.TypeOf(f.DataType).WithNullable(true);
                row[f.Name] = Plain(ArrowValues.GetRow(resolved.Features.Column(c), r, type), type);
            }
            features[resolved.RowMessage[r]] = row;
        }
        var outcomes = Enumerable.Range(0, n).Select(i => new TestOutcome(i, OutcomeName(resolved.Outcomes[i]), resolved.Reasons[i],
            resolved.Outcomes[i] is MessageOutcome.Filtered or MessageOutcome.Late ? null : parsed[i], features[i])).ToList();
        return new ResolverTestResult(outcomes, resolved.Features, resolved.Counts());
    }

    private static long Micros(DateTime t) => (t.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks) / 10;

    internal static string OutcomeName(MessageOutcome o) => o switch
    {
        MessageOutcome.ParseFailed => "parse_failed",
        _ => o.ToString().ToLowerInvariant(),
    };

    /// <summary>Row-form values as plain .NET values: structs as dictionaries, lists as lists, timestamps as UTC DateTime.</summary>
    private static object? Plain(object? value, DataType type) => value switch
    {
        null => null,
        object?[] fields when type.Kind == TypeKind.Struct =>
            type.Fields.Select((f, i) => (f.Name, Value: Plain(fields[i], f.Type))).ToDictionary(x => x.Name, x => x.Value, StringComparer.Ordinal),
        object?[] items when type.Kind == TypeKind.List => items.Select(x => Plain(x, type.Element!)).ToList(),
        long micros when type.Kind == TypeKind.Timestamp => DateTime.UnixEpoch.AddTicks(micros * 10),
        int days when type.Kind == TypeKind.Date => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + days),
        _ => value,
    };
}
