using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Sluice.Cli;

/// <summary>
/// The options of a long-running command (<c>run</c>, <c>replay</c>): where metrics and health are served, how logs are
/// written, and how long a stop may take.
/// </summary>
internal sealed class OperationsOptions
{
    private readonly Option<int?> _metricsPort = new("--metrics-port")
    {
        Description = "serve /metrics (Prometheus), /healthz and /readyz on this port (all interfaces); OTLP goes to OTEL_EXPORTER_OTLP_ENDPOINT when that is set",
    };
    private readonly Option<string> _logFormat = new("--log-format")
    {
        Description = "log lines on stderr as readable text, or one JSON object per line",
        DefaultValueFactory = _ => "text",
    };
    private readonly Option<string> _logLevel = new("--log-level")
    {
        Description = "the least severe log level written: trace, debug, information, warning, error, critical or none",
        DefaultValueFactory = _ => "information",
    };
    private readonly Option<double> _shutdownTimeout = new("--shutdown-timeout")
    {
        Description = "seconds a stop (SIGTERM, Ctrl-C) may take to drain and commit before the process exits non-zero without committing the rest",
        DefaultValueFactory = _ => 30,
    };

    public OperationsOptions()
    {
        OneOf(_logFormat, "text", "json");
        OneOf(_logLevel, "trace", "debug", "information", "warning", "error", "critical", "none");
    }

    private static void OneOf(Option<string> option, params string[] values)
    {
        option.CompletionSources.Add(values);
        option.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (!values.Contains(value, StringComparer.Ordinal)) r.AddError($"{option.Name} must be one of {string.Join(", ", values)}; got '{value}'");
        });
    }

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All => [_metricsPort, _logFormat, _logLevel, _shutdownTimeout];

    /// <summary>The options as given; null after printing why one is wrong.</summary>
    public OperationsSettings? Read(ParseResult parse, Io io)
    {
        var port = parse.GetValue(_metricsPort);
        if (port is < 0 or > 65535)
        {
            io.Err.WriteLine($"error: --metrics-port must be a port number (0-65535), got {port}");
            return null;
        }
        double timeout = parse.GetValue(_shutdownTimeout);
        if (timeout <= 0)
        {
            io.Err.WriteLine($"error: --shutdown-timeout must be a positive number of seconds, got {timeout}");
            return null;
        }
        var level = Enum.Parse<LogLevel>(parse.GetValue(_logLevel)!, ignoreCase: true);
        return new OperationsSettings(port, parse.GetValue(_logFormat) == "json", level, TimeSpan.FromSeconds(timeout));
    }
}

/// <summary>What <see cref="OperationsOptions"/> read.</summary>
internal sealed record OperationsSettings(int? MetricsPort, bool JsonLogs, LogLevel LogLevel, TimeSpan ShutdownTimeout);
