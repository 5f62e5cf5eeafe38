using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Observability;

namespace Sluice.Clients;

/// <summary>
/// librdkafka's own log lines and client errors go through <see cref="SluiceLog"/> (category <c>Sluice.Kafka</c>, with
/// <c>--log-format</c> and <c>--log-level</c>) instead of raw <c>%3|...</c> lines on stderr. A broker that cannot be
/// reached is retried by librdkafka every few milliseconds: each distinct line is written once, then at most once a
/// minute with how many times it repeated, so a run waiting for its broker says so in one line, not thousands.
/// </summary>
internal sealed partial class KafkaLog(string client)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);
    private readonly ILogger _log = SluiceLog.For("Sluice.Kafka");
    private readonly ConcurrentDictionary<string, (long Last, int Repeats)> _seen = new(StringComparer.Ordinal);

    /// <summary>Called with each client error that is not fatal (a fatal one ends the run where it is read).</summary>
    public Action<Error>? OnTransportError { get; init; }

    public void Log(LogMessage m)
    {
        var level = m.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Warning,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        // librdkafka's errors are retried by librdkafka: warnings to us until the run gives up on them.
        var message = Thread().Replace(m.Message, "");
        if (!_log.IsEnabled(level) || !Due($"{m.Facility} {Timings().Replace(message, "")}", out int repeats)) return;
        _log.Log(level, "kafka client {Client}: {Facility}: {Message}{Repeats}", client, m.Facility, message, Repeated(repeats));
    }

    public void Error(Error e)
    {
        if (e.IsFatal) return;
        OnTransportError?.Invoke(e);
        // A connection that failed was logged by librdkafka itself (FAIL) with the broker's address.
        if (e.Code == ErrorCode.Local_Transport || !Due($"error {e.Code}", out int repeats)) return;
        _log.LogWarning("kafka client {Client}: {Reason} ({Code}); retrying{Repeats}", client, e.Reason, e.Code, Repeated(repeats));
    }

    private static string Repeated(int repeats) => repeats == 0 ? "" : $" (repeated {repeats} times since it was last written)";

    private bool Due(string key, out int repeats)
    {
        long now = Stopwatch.GetTimestamp();
        repeats = 0;
        while (true)
        {
            if (!_seen.TryGetValue(key, out var seen))
            {
                if (_seen.TryAdd(key, (now, 0))) return true;
                continue;
            }
            bool due = Stopwatch.GetElapsedTime(seen.Last, now) >= Quiet;
            var next = due ? (now, 0) : (seen.Last, seen.Repeats + 1);
            if (!_seen.TryUpdate(key, next, seen)) continue;
            repeats = due ? seen.Repeats : 0;
            return due;
        }
    }

    [GeneratedRegex(@"\(after \d+ms[^)]*\)|\d+ms")]
    private static partial Regex Timings();

    [GeneratedRegex(@"^\[thrd:[^\]]*\]: ")]
    private static partial Regex Thread();
}

/// <summary>Consumers that log through <see cref="KafkaLog"/> (the producer, <see cref="KafkaProducer"/>, calls it itself).</summary>
internal static class KafkaLogging
{
    public static ConsumerBuilder<TKey, TValue> WithSluiceLog<TKey, TValue>(this ConsumerBuilder<TKey, TValue> builder, KafkaLog log) =>
        builder.SetLogHandler((_, m) => log.Log(m)).SetErrorHandler((_, e) => log.Error(e));
}
