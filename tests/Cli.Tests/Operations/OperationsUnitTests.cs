using System.Diagnostics.Metrics;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Sluice.Pipeline.Observability;

namespace Sluice.Cli.Tests.Operations;

/// <summary>The meter's counters against a replay's outcome table, the log line formats, and the operations options' checks.</summary>
public sealed class OperationsUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-ops-unit-").FullName;
    private static readonly string Example = Path.Combine(AppContext.BaseDirectory, "examples", "users");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_messages_counter_counts_what_the_outcome_table_counts()
    {
        // Resolver names of their own: the listener hears every test of this process.
        var defs = Path.Combine(_dir, "sluice.yaml");
        File.WriteAllText(defs, File.ReadAllText(Path.Combine(Example, "sluice.yaml")).Replace("get_users_stream", "metered_users", StringComparison.Ordinal)
            .Replace("get_transactions_stream", "metered_transactions", StringComparison.Ordinal));
        var counted = new Dictionary<(string Instrument, string Resolver, string Outcome), long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SluiceMetrics.MeterName && instrument.Name is "sluice.messages" or "sluice.dead_letters") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string resolver = "", outcome = "";
            foreach (var t in tags)
            {
                if (t.Key == "resolver") resolver = (string)t.Value!;
                if (t.Key == "outcome") outcome = (string)t.Value!;
            }
            if (!resolver.StartsWith("metered_", StringComparison.Ordinal)) return;
            lock (counted) counted[(instrument.Name, resolver, outcome)] = counted.GetValueOrDefault((instrument.Name, resolver, outcome)) + value;
        });
        listener.Start();

        var (code, output, err) = Cli.Run(["replay", defs, Path.Combine(Example, "users.jsonl"), "--json", "--online", $"sqlite:{Path.Combine(_dir, "online.db")}",
            "--offline", Path.Combine(_dir, "offline"), "--sink-dir", Path.Combine(_dir, "sinks"), "--dead-letter", Path.Combine(_dir, "dead-letter.jsonl")]);
        code.Should().Be(0, err);
        var resolvers = JsonDocument.Parse(output).RootElement.GetProperty("resolvers");
        foreach (var r in resolvers.EnumerateObject())
            foreach (var o in r.Value.EnumerateObject())
                counted.GetValueOrDefault(("sluice.messages", r.Name, o.Name)).Should().Be(o.Value.GetInt64(), $"{r.Name} {o.Name}");
        counted.GetValueOrDefault(("sluice.dead_letters", "metered_users", "")).Should().Be(resolvers.GetProperty("metered_users").GetProperty("parse_failed").GetInt64());
    }

    [Fact]
    public void Json_log_lines_carry_the_level_the_category_the_message_and_its_named_values()
    {
        var text = new StringWriter();
        using (var factory = LoggerFactory.Create(b => b.AddProvider(new WriterLoggerProvider(text, json: true, LogLevel.Information))))
        {
            var log = factory.CreateLogger("Sluice.Kafka");
            log.LogInformation("source {Source}: {Count} partitions assigned", "users", 4);
            log.LogDebug("not written: below the level");
            log.LogWarning(new InvalidOperationException("boom"), "refused {Reason}", "rebalance");
        }
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(2);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        (first.GetProperty("level").GetString(), first.GetProperty("category").GetString(), first.GetProperty("message").GetString())
            .Should().Be(("info", "Sluice.Kafka", "source users: 4 partitions assigned"));
        (first.GetProperty("Source").GetString(), first.GetProperty("Count").GetInt64()).Should().Be(("users", 4));
        DateTimeOffset.Parse(first.GetProperty("timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        var second = JsonDocument.Parse(lines[1]).RootElement;
        (second.GetProperty("level").GetString(), second.GetProperty("exception").GetString()).Should().Be(("warn", "boom"));
    }

    [Fact]
    public void Text_log_lines_are_one_readable_line_each()
    {
        var text = new StringWriter();
        using (var factory = LoggerFactory.Create(b => b.AddProvider(new WriterLoggerProvider(text, json: false, LogLevel.Warning))))
        {
            factory.CreateLogger("Sluice.Redis").LogWarning("Redis {Redis}: connection lost", "redis://h:1");
            factory.CreateLogger("Sluice.Redis").LogInformation("not written");
        }
        text.ToString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn  Sluice.Redis: Redis redis://h:1: connection lost\r?\n$");
    }

    [Theory]
    [InlineData("--log-format", "xml")]
    [InlineData("--log-level", "loud")]
    [InlineData("--shutdown-timeout", "0")]
    [InlineData("--metrics-port", "70000")]
    public void A_wrong_operations_option_is_a_usage_error_naming_it(string option, string value)
    {
        var (code, _, err) = Cli.Run(["replay", Path.Combine(Example, "sluice.yaml"), Path.Combine(Example, "users.jsonl"), option, value,
            "--online", $"sqlite:{Path.Combine(_dir, "online.db")}", "--offline", Path.Combine(_dir, "offline")]);
        code.Should().Be(2);
        err.Should().Contain(option[2..].Split('-')[0]);
    }

    [Fact]
    public void Readiness_needs_a_source_and_everything_ready()
    {
        // Process-wide state: judged on this test's own components only, by name.
        using var source = SluiceHealth.Source("source unit-test-source", "waiting");
        using var store = SluiceHealth.Store("store unit-test-store", "connecting");
        SluiceHealth.Check().Components.Should().Contain(("source unit-test-source", "waiting"));
        SluiceHealth.Check().Ready.Should().BeFalse();
        source.Ready();
        store.Ready();
        SluiceHealth.Check().Components.Where(c => c.Name.Contains("unit-test", StringComparison.Ordinal)).Should().OnlyContain(c => c.NotReady == null);
        store.NotReadyBecause("unreachable: refused");
        SluiceHealth.Check().Ready.Should().BeFalse();
        SluiceHealth.Check().Components.Should().Contain(("store unit-test-store", "unreachable: refused"));
    }
}
