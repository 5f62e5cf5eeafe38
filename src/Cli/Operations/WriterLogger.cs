using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Sluice.Cli;

/// <summary>
/// Logs to a text writer (the command's stderr): <c>2026-12-05T21:30:00.123Z info  Sluice.Kafka: message</c> per line,
/// or one JSON object per line (<c>timestamp</c>, <c>level</c>, <c>category</c>, <c>message</c>, the message's named
/// values, <c>exception</c>). Lines are written whole, one at a time.
/// </summary>
internal sealed class WriterLoggerProvider(TextWriter writer, bool json, LogLevel minimum) : ILoggerProvider
{
    private readonly Lock _lock = new();

    public ILogger CreateLogger(string categoryName) => new WriterLogger(this, categoryName);

    public void Dispose() { }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace", LogLevel.Debug => "debug", LogLevel.Information => "info", LogLevel.Warning => "warn",
        LogLevel.Error => "error", _ => "crit",
    };

    private void Write<TState>(string category, LogLevel level, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        string message = formatter(state, exception);
        string line;
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("timestamp", now);
                w.WriteString("level", Level(level));
                w.WriteString("category", category);
                w.WriteString("message", message);
                if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
                    foreach (var (name, value) in values)
                        if (name != "{OriginalFormat}") WriteValue(w, name, value);
                if (exception is not null) w.WriteString("exception", exception.Message);
                w.WriteEndObject();
            }
            line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        else line = $"{now} {Level(level),-5} {category}: {message}{(exception is null ? "" : $" ({exception.Message})")}";
        lock (_lock)
        {
            writer.WriteLine(line);
            writer.Flush();
        }
    }

    private static void WriteValue(Utf8JsonWriter w, string name, object? value)
    {
        switch (value)
        {
            case null: w.WriteNull(name); break;
            case bool b: w.WriteBoolean(name, b); break;
            case int or long or short or byte: w.WriteNumber(name, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            case double or float or decimal: w.WriteNumber(name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            default: w.WriteString(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }

    private sealed class WriterLogger(WriterLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) provider.Write(category, logLevel, state, exception, formatter);
        }
    }

    private readonly LogLevel _minimum = minimum;
}
