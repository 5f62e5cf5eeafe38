using System.Text.RegularExpressions;
using FluentAssertions;
using Sluice.Pipeline.Definitions;

namespace Sluice.Cli.Tests;

/// <summary>
/// Docs that cannot drift: every command and option of the CLI's command tree is in docs/cli.md under its command, and
/// every key the YAML loader and the source kinds take is in docs/configuration.md.
/// </summary>
public sealed class DocsDriftUnitTests
{
    private static string Docs(string page)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "docs", page))) return File.ReadAllText(Path.Combine(d.FullName, "docs", page));
        throw new FileNotFoundException($"docs/{page} not found above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void Every_command_and_option_is_in_docs_cli_md_under_its_command()
    {
        var text = Docs("cli.md");
        var root = CliApp.Commands(new Io(TextWriter.Null, TextWriter.Null));
        var missing = new List<string>();
        foreach (var command in root.Subcommands)
        {
            var section = Regex.Match(text, $@"^## sluice {command.Name}\n(.*?)(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline);
            if (!section.Success)
            {
                missing.Add($"section '## sluice {command.Name}'");
                continue;
            }
            foreach (var option in command.Options.Where(o => o.Name is not ("--help" or "-h" or "-?")))
                if (!section.Groups[1].Value.Contains($"`{option.Name}", StringComparison.Ordinal)) missing.Add($"{command.Name} {option.Name}");
            foreach (var argument in command.Arguments)
                if (!section.Groups[1].Value.Contains($"<{argument.Name}>", StringComparison.Ordinal)) missing.Add($"{command.Name} <{argument.Name}>");
        }
        missing.Should().BeEmpty("docs/cli.md documents every command, argument and option");
    }

    [Fact]
    public void Every_definition_key_and_source_option_is_in_docs_configuration_md()
    {
        var text = Docs("configuration.md");
        var missing = YamlDefinitionLoader.Keys.Where(k => !text.Contains($"`{k}`", StringComparison.Ordinal)).Select(k => $"key {k}").ToList();
        foreach (var kind in Defaults.Connectors.Sources.Values)
        {
            if (!text.Contains($"`kind: {kind.Name}`", StringComparison.Ordinal)) missing.Add($"source kind {kind.Name}");
            foreach (var option in kind.Options)
                if (!text.Contains($"`{option.Key.TrimEnd('.')}", StringComparison.Ordinal)) missing.Add($"{kind.Name} option {option.Key}");
        }
        missing.Should().BeEmpty("docs/configuration.md documents every key");
    }
}
