using System.Text;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// The dead letters of a batch, in one place for every target: each failed message (parse_failed, failed) with its
/// original key, payload and headers plus <c>sluice-error</c> (why), <c>sluice-resolver</c> and <c>sluice-source</c>
/// (topic/partition/offset). A target that carries headers sends exactly that; one that does not (a file, a Kinesis
/// stream) sends the message's dead-letter line, the JSONL recording form that <c>sluice replay</c> reads back.
/// </summary>
public static class DeadLetters
{
    /// <summary>The messages of <paramref name="batch"/> that go to the dead-letter target (parse_failed, failed).</summary>
    public static IEnumerable<int> FailedMessages(ResolvedBatch batch) =>
        Enumerable.Range(0, batch.Outcomes.Count).Where(i => batch.Outcomes[i] is MessageOutcome.ParseFailed or MessageOutcome.Failed);

    /// <summary>The headers a dead letter carries besides the original ones.</summary>
    public static KeyValuePair<string, string>[] Headers(ResolverPlan plan, ResolvedBatch batch, int i) =>
    [
        new("sluice-error", batch.Reasons[i] ?? batch.Outcomes[i].ToString()),
        new("sluice-resolver", plan.Name),
        new("sluice-source", batch.Messages.Position(i)),
    ];

    /// <summary>
    /// The dead letters of <paramref name="batch"/> as records: with <paramref name="headers"/>, the original key, payload
    /// and headers plus the sluice-* ones; without, the dead-letter line as the payload, keyed by the original key (or,
    /// when it has none, its position).
    /// </summary>
    public static IReadOnlyList<OutRecord> Encode(ResolverPlan plan, ResolvedBatch batch, bool headers)
    {
        var m = batch.Messages;
        var records = new List<OutRecord>();
        foreach (int i in FailedMessages(batch))
        {
            var extra = Headers(plan, batch, i);
            byte[]? key = m.Key.IsNull(i) ? null : m.Key.GetBytes(i).ToArray();
            if (headers)
                records.Add(new OutRecord(key, m.Value.IsNull(i) ? null : m.Value.GetBytes(i).ToArray(),
                    [.. m.HeadersOf(i), .. extra.Select(h => KeyValuePair.Create(h.Key, Encoding.UTF8.GetBytes(h.Value)))]));
            else
                records.Add(new OutRecord(key is { Length: > 0 } ? key : Encoding.UTF8.GetBytes(m.Position(i)),
                    Encoding.UTF8.GetBytes(MessageJsonl.Line(m, i, extra)), []));
        }
        return records;
    }
}
