using System.Runtime.InteropServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Sluice.Pipeline.Observability;
using Sluice.Pipeline.Runtime;

namespace Sluice.Cli;

/// <summary>
/// What a long-running command runs beside its pipeline: logs (<see cref="SluiceLog"/>), metrics exported through
/// OpenTelemetry (a Prometheus scrape endpoint with <c>/healthz</c> and <c>/readyz</c> on <c>--metrics-port</c>, OTLP
/// when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set), and the stop: the first SIGTERM or Ctrl-C cancels
/// <see cref="Stopping"/> (the pipeline stops reading, drains, commits); a second one, or a drain longer than
/// <c>--shutdown-timeout</c>, exits at once with <see cref="CliApp.Forced"/> and commits nothing more.
/// </summary>
internal sealed class OperationsSession : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly ILoggerFactory _logs;
    private readonly ILogger _log;
    private readonly WebApplication? _web;
    private readonly MeterProvider? _meters;
    private readonly PosixSignalRegistration[] _signals;
    private readonly TimeSpan _shutdownTimeout;
    private int _signalled;
    private Timer? _deadline;

    private OperationsSession(OperationsSettings settings, WebApplication? web, MeterProvider? meters, ILoggerFactory logs, CancellationToken outer)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _logs = logs;
        _log = logs.CreateLogger("Sluice");
        _web = web;
        _meters = meters;
        _shutdownTimeout = settings.ShutdownTimeout;
        _signals = OperatingSystem.IsWindows() ? [] :
            [PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal)];
    }

    /// <summary>Cancelled by the first stop signal.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>The session's logger for the command's own events.</summary>
    public ILogger Log => _log;

    /// <summary>Starts logging, the endpoint and the exporters for <paramref name="command"/>.</summary>
    public static async Task<OperationsSession> StartAsync(OperationsSettings settings, Io io, string command, CancellationToken outer)
    {
        var logs = LoggerFactory.Create(b =>
        {
            b.ClearProviders();
            b.SetMinimumLevel(settings.LogLevel);
            b.AddProvider(new WriterLoggerProvider(io.Err, settings.JsonLogs, settings.LogLevel));
        });
        SluiceLog.Factory = logs;
        var otlp = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        WebApplication? web = null;
        MeterProvider? meters = null;
        if (settings.MetricsPort is { } port)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(port));
            builder.Services.AddOpenTelemetry().WithMetrics(m =>
            {
                m.AddMeter(SluiceMetrics.MeterName).AddPrometheusExporter();
                if (otlp) m.AddOtlpExporter();
            });
            web = builder.Build();
            web.MapPrometheusScrapingEndpoint("/metrics");
            web.MapGet("/healthz", () => Results.Text("ok\n"));
            web.MapGet("/readyz", () =>
            {
                var (ready, components) = SluiceHealth.Check();
                var text = new StringBuilder(ready ? "ready\n" : "not ready\n");
                foreach (var (name, notReady) in components) text.Append(name).Append(": ").Append(notReady ?? "ready").Append('\n');
                if (components.Count == 0) text.Append("nothing started yet\n");
                return Results.Text(text.ToString(), statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
            });
            try
            {
                await web.StartAsync(outer);
            }
            catch (IOException e)
            {
                await web.DisposeAsync();
                logs.Dispose();
                throw new RunSetupException($"--metrics-port {port}: cannot listen: {e.Message}");
            }
            logs.CreateLogger("Sluice").LogInformation("{Command}: metrics on http://0.0.0.0:{Port}/metrics, health on /healthz and /readyz", command, port);
        }
        else if (otlp)
            meters = Sdk.CreateMeterProviderBuilder().AddMeter(SluiceMetrics.MeterName).AddOtlpExporter().Build();
        return new OperationsSession(settings, web, meters, logs, outer);
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the process decides when it ends
        if (Interlocked.Increment(ref _signalled) == 1)
        {
            _log.LogInformation("{Signal}: stopping: reading stopped, draining what is in flight and committing it (at most {Seconds:F0} s; a second signal exits at once)",
                context.Signal, _shutdownTimeout.TotalSeconds);
            _deadline = new Timer(_ => Force($"the drain took longer than --shutdown-timeout {_shutdownTimeout.TotalSeconds:F0} s"), null, _shutdownTimeout, Timeout.InfiniteTimeSpan);
            _stop.Cancel();
        }
        else Force($"a second {context.Signal}");
    }

    private void Force(string why)
    {
        _log.LogError("stopping at once ({Why}): what was not yet written is not committed and is read again by the next run", why);
        _meters?.ForceFlush(2000);
        _logs.Dispose();
        Environment.Exit(CliApp.Forced);
    }

    /// <summary>Flushes the metrics, stops the endpoint and the signal handlers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_deadline is not null) await _deadline.DisposeAsync();
        foreach (var s in _signals) s.Dispose();
        if (_signalled > 0) _log.LogInformation("stopped cleanly: everything read was written and committed");
        if (_web is not null)
        {
            _web.Services.GetService<MeterProvider>()?.ForceFlush(5000);
            using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await _web.StopAsync(stopping.Token);
            await _web.DisposeAsync();
        }
        if (_meters is not null)
        {
            _meters.ForceFlush(5000);
            _meters.Dispose();
        }
        SluiceLog.Factory = null!;
        _logs.Dispose();
        _stop.Dispose();
    }
}
