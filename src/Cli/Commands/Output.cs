using System.Globalization;
using System.Text.Json;
using Sluice.Pipeline.Execution;

namespace Sluice.Cli;

/// <summary>How commands print results: plain tables, the outcome JSON, the progress line.</summary>
internal static class Output
{
    public static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>A plain text table: the first column left-aligned, the others right-aligned, two spaces apart.</summary>
    public static void Table(TextWriter stdout, string[] head, IEnumerable<string[]> body)
    {
        var rows = body.Prepend(head).ToList();
        var widths = Enumerable.Range(0, head.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            stdout.WriteLine(string.Join("  ", row.Select((v, c) => c == 0 ? v.PadRight(widths[c]) : v.PadLeft(widths[c]))));
    }

    /// <summary>The outcome of a replay or run: <c>{"messages", "seconds", "resolvers": {name: counts}}</c> with --json, else a table.</summary>
    public static void Outcomes(TextWriter stdout, bool json, long messages, double seconds, IReadOnlyDictionary<string, OutcomeCounts> resolvers)
    {
        if (json)
        {
            var doc = new Dictionary<string, object>
            {
                ["messages"] = messages,
                ["seconds"] = Math.Round(seconds, 3),
                ["resolvers"] = resolvers.ToDictionary(r => r.Key, r => (object)new Dictionary<string, long>
                {
                    ["written"] = r.Value.Written, ["filtered"] = r.Value.Filtered, ["late"] = r.Value.Late, ["skipped"] = r.Value.Skipped,
                    ["duplicate"] = r.Value.Duplicate, ["parse_failed"] = r.Value.ParseFailed, ["failed"] = r.Value.Failed,
                }),
            };
            stdout.WriteLine(JsonSerializer.Serialize(doc));
            return;
        }
        string[] head = ["resolver", "written", "filtered", "late", "skipped", "duplicate", "parse_failed", "failed"];
        Table(stdout, head, resolvers.Select(r => new[] { r.Key }.Concat(Counts(r.Value)).ToArray()));
        stdout.WriteLine($"{messages:N0} messages in {seconds:F2} s ({messages / Math.Max(seconds, 1e-9):N0} msgs/s)");
    }

    private static IEnumerable<string> Counts(OutcomeCounts c) =>
        new[] { c.Written, c.Filtered, c.Late, c.Skipped, c.Duplicate, c.ParseFailed, c.Failed }.Select(v => v.ToString(Inv));

    /// <summary>A progress line redrawn at most 4 times a second on a terminal; nothing when output is redirected.</summary>
    public sealed class Progress(Io io, bool live)
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private long _lastDrawn = long.MinValue;

        public void Report(long messages, IReadOnlyDictionary<string, OutcomeCounts> counts)
        {
            if (!live) return;
            lock (this)
            {
                long now = _clock.ElapsedMilliseconds;
                if (now - _lastDrawn < 250) return;
                _lastDrawn = now;
                io.Err.Write($"\r{messages:N0} messages ({messages / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9):N0}/s), {counts.Values.Sum(c => c.Written):N0} written, "
                    + $"{counts.Values.Sum(c => c.ParseFailed + c.Failed):N0} dead-lettered   ");
            }
        }

        /// <summary>Ends the line, so that what follows starts on its own.</summary>
        public void Done()
        {
            if (live) io.Err.WriteLine();
        }
    }
}
