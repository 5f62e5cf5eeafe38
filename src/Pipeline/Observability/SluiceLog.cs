using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sluice.Pipeline.Observability;

/// <summary>
/// Where the pipeline's components log (Microsoft.Extensions.Logging): events once each (assignments, rebalances,
/// retries, reconnects, dead-lettering, shutdown) with their numbers, never one line per message, and never a secret.
/// The host sets <see cref="Factory"/> (the CLI from <c>--log-level</c> and <c>--log-format</c>); by default nothing is logged.
/// </summary>
public static class SluiceLog
{
    private static ILoggerFactory _factory = NullLoggerFactory.Instance;

    /// <summary>The factory every component's logger comes from.</summary>
    public static ILoggerFactory Factory
    {
        get => _factory;
        set => _factory = value ?? NullLoggerFactory.Instance;
    }

    /// <summary>A logger for <paramref name="category"/> (<c>Sluice.Kafka</c>, <c>Sluice.Redis</c>, ...).</summary>
    public static ILogger For(string category) => _factory.CreateLogger(category);
}
