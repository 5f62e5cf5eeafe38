using System.Text.RegularExpressions;
using FluentAssertions;

namespace Sluice.Cli.Tests;

/// <summary>
/// docs/getting-started.md as a user follows it: its YAML and recording are written to a folder, its validate, replay
/// and get commands run there as separate processes, and what each prints must contain what the page shows.
/// </summary>
public sealed partial class GettingStartedUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-getting-started-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Page()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "docs", "getting-started.md"))) return File.ReadAllText(Path.Combine(d.FullName, "docs", "getting-started.md"));
        throw new FileNotFoundException("docs/getting-started.md");
    }

    [GeneratedRegex(@"```(\w+)\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Block();

    [Fact]
    public async Task The_getting_started_page_works_as_shown()
    {
        var blocks = Block().Matches(Page()).Select(m => (Lang: m.Groups[1].Value, Text: m.Groups[2].Value)).ToList();
        File.WriteAllText(Path.Combine(_dir, "sluice.yaml"), blocks.First(b => b.Lang == "yaml").Text);
        File.WriteAllText(Path.Combine(_dir, "orders.jsonl"), blocks.Single(b => b.Lang == "jsonl").Text);
        var commands = blocks.Where(b => b.Lang == "sh").Select(b => b.Text.Trim()).ToList();
        var shown = blocks.Where(b => b.Lang is "text" or "json").Select(b => b.Text.Trim()).ToList();
        commands.Should().HaveCountGreaterThanOrEqualTo(shown.Count);

        // Each command a separate process in the folder, as a user types it (the page works in the current folder).
        for (int i = 0; i < shown.Count; i++)
        {
            var args = commands[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            args[0].Should().Be("sluice");
            using var sluice = SluiceProcess.Start(_dir, args[1..]);
            var (code, output, err) = await SluiceProcess.ExitAsync(sluice, TimeSpan.FromMinutes(1));
            code.Should().Be(0, $"{commands[i]}: {err}");
            foreach (var line in shown[i].Split('\n'))
                output.Should().Contain(line.TrimEnd(), $"'{commands[i]}' prints what the page shows");
        }
        File.ReadAllText(Path.Combine(_dir, ".sluice", "dead-letter.jsonl")).Should().Contain("orders/0/2");
        Directory.GetFiles(Path.Combine(_dir, ".sluice", "offline", "order", "date=2026-01-01"), "part-*.parquet").Should().ContainSingle();
    }
}
