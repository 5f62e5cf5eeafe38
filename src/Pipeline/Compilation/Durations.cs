using System.Globalization;
using System.Text.RegularExpressions;

namespace Sluice.Pipeline.Compilation;

/// <summary>Chalk-style durations: <c>500ms</c>, <c>30s</c>, <c>15m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c>, and sums like <c>1h30m</c>.</summary>
internal static partial class Durations
{
    [GeneratedRegex(@"^(?:(\d+)(ms|s|m|h|d|w))+$")]
    private static partial Regex Pattern();

    [GeneratedRegex(@"(\d+)(ms|s|m|h|d|w)")]
    private static partial Regex Part();

    /// <summary>Parses <paramref name="text"/>; null when it is not a duration.</summary>
    public static TimeSpan? TryParse(string text)
    {
        text = text.Trim();
        if (!Pattern().IsMatch(text)) return null;
        var total = TimeSpan.Zero;
        foreach (Match m in Part().Matches(text))
        {
            long n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n), "s" => TimeSpan.FromSeconds(n), "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n), "d" => TimeSpan.FromDays(n), _ => TimeSpan.FromDays(7 * n),
            };
        }
        return total;
    }
}
