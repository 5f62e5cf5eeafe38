using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Sluice.Pipeline.Execution;

namespace Sluice.Pipeline.Observability;

/// <summary>
/// The instruments of meter <c>Sluice</c> (<see cref="System.Diagnostics.Metrics"/>), named and measured by OpenTelemetry's
/// conventions. Everything is recorded once per batch or per event, never per message. Gauges are read from whatever
/// registered itself (<see cref="Observe"/>) when a collector asks. A host exports them (the CLI: a Prometheus endpoint
/// and OTLP); without a listener recording costs next to nothing.
/// </summary>
public static class SluiceMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Sluice";

    private static readonly Meter Meter = new(MeterName, typeof(SluiceMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> Messages = Meter.CreateCounter<long>("sluice.messages", "{message}",
        "Messages by resolver and outcome (written, filtered, late, skipped, duplicate, parse_failed, failed): the outcome table's numbers");
    private static readonly Counter<long> DeadLetterCount = Meter.CreateCounter<long>("sluice.dead_letters", "{message}",
        "Messages written to the dead-letter target, by resolver");
    private static readonly Counter<long> StoreRows = Meter.CreateCounter<long>("sluice.store.rows", "{row}",
        "Rows written, by store (online, offline, sink)");
    private static readonly Histogram<double> StoreWrite = Meter.CreateHistogram<double>("sluice.store.write.duration", "s",
        "How long one write took (a group commit online, a batch offline or to a sink, a dead-letter batch), by store");
    private static readonly Histogram<long> BatchSize = Meter.CreateHistogram<long>("sluice.batch.size", "{message}",
        "Messages per batch handed to the resolvers, by source");
    private static readonly Counter<long> Commits = Meter.CreateCounter<long>("sluice.source.commits", "{commit}",
        "Position commits a source made (offsets, checkpoints, acknowledgements), by source");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("sluice.retries", "{retry}",
        "Calls retried after a failure, by component (redis, kafka, kinesis, pubsub)");
    private static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("sluice.reconnects", "{reconnect}",
        "Connections re-established, by component");

    private static readonly ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> Lag = new(), LagTime = new(), CommittedOffsets = new(), QueueDepth = new();

    static SluiceMetrics()
    {
        Meter.CreateObservableGauge("sluice.source.lag", () => Read(Lag), "{message}",
            "Messages behind the end of the stream, by source, topic and partition (Kafka: the high watermark minus the next offset to read; Pub/Sub: messages received and not yet acknowledged)");
        Meter.CreateObservableGauge("sluice.source.lag.time", () => Read(LagTime), "ms",
            "How far behind the newest record a shard's reader is, by source, topic (stream) and partition (shard) (Kinesis: MillisBehindLatest of the last read)");
        Meter.CreateObservableGauge("sluice.source.committed_offset", () => Read(CommittedOffsets), "{offset}",
            "The next position committed, by source and partition");
        Meter.CreateObservableGauge("sluice.block.queue.depth", () => Read(QueueDepth), "{batch}",
            "Batches waiting at a block's input, by block");
    }

    private static IEnumerable<Measurement<long>> Read(ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> providers)
    {
        var all = new List<Measurement<long>>();
        foreach (var p in providers.Values)
        {
            try { all.AddRange(p()); }
            catch (ObjectDisposedException) { } // a source closing while the collector reads
        }
        return all;
    }

    /// <summary>A gauge's kinds of measurement.</summary>
    public enum Gauge
    {
        /// <summary><c>sluice.source.lag</c>.</summary>
        Lag,
        /// <summary><c>sluice.source.lag.time</c>.</summary>
        LagTime,
        /// <summary><c>sluice.source.committed_offset</c>.</summary>
        CommittedOffset,
        /// <summary><c>sluice.block.queue.depth</c>.</summary>
        QueueDepth,
    }

    /// <summary>Lets <paramref name="read"/> answer <paramref name="gauge"/> until the returned handle is disposed.</summary>
    public static IDisposable Observe(Gauge gauge, Func<IEnumerable<Measurement<long>>> read)
    {
        var providers = gauge switch { Gauge.Lag => Lag, Gauge.LagTime => LagTime, Gauge.CommittedOffset => CommittedOffsets, _ => QueueDepth };
        var key = new object();
        providers[key] = read;
        return new Registration(() => providers.TryRemove(key, out _));
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }

    /// <summary>A delivery's outcomes became final (every target durable).</summary>
    public static void Outcomes(string resolver, OutcomeCounts c)
    {
        if (!Messages.Enabled) return;
        Add("written", c.Written);
        Add("filtered", c.Filtered);
        Add("late", c.Late);
        Add("skipped", c.Skipped);
        Add("duplicate", c.Duplicate);
        Add("parse_failed", c.ParseFailed);
        Add("failed", c.Failed);
        void Add(string outcome, long n)
        {
            if (n > 0) Messages.Add(n, new("resolver", resolver), new("outcome", outcome));
        }
    }

    /// <summary>A write to <paramref name="store"/> of <paramref name="rows"/> rows finished after <paramref name="seconds"/>.</summary>
    public static void Wrote(string store, long rows, double seconds)
    {
        if (rows > 0) StoreRows.Add(rows, new KeyValuePair<string, object?>("store", store));
        StoreWrite.Record(seconds, new KeyValuePair<string, object?>("store", store));
    }

    /// <summary><paramref name="count"/> messages of <paramref name="resolver"/> went to the dead-letter target.</summary>
    public static void DeadLettered(string resolver, long count)
    {
        if (count > 0) DeadLetterCount.Add(count, new KeyValuePair<string, object?>("resolver", resolver));
    }

    /// <summary>A batch of <paramref name="messages"/> from <paramref name="source"/> went to the resolvers.</summary>
    public static void Batch(string source, long messages) => BatchSize.Record(messages, new KeyValuePair<string, object?>("source", source));

    /// <summary><paramref name="source"/> committed its positions.</summary>
    public static void Committed(string source) => Commits.Add(1, new KeyValuePair<string, object?>("source", source));

    /// <summary><paramref name="component"/> retried a call.</summary>
    public static void Retried(string component) => Retries.Add(1, new KeyValuePair<string, object?>("component", component));

    /// <summary><paramref name="component"/> connected again.</summary>
    public static void Reconnected(string component) => Reconnects.Add(1, new KeyValuePair<string, object?>("component", component));
}
