using System.CommandLine;
using Sluice.Pipeline.Compilation;

namespace Sluice.Cli;

/// <summary><c>sluice validate &lt;defs.yaml&gt;</c>: compiles every resolver; prints every error with file:line:col and its SLU code; exit 1 if any.</summary>
internal static class ValidateCommand
{
    public static Command Create(Io io)
    {
        var defs = CommonOptions.Definitions();
        var json = CommonOptions.Json();
        var command = new Command("validate", "compile every resolver; print every error; exit 1 if any") { defs, json };
        command.SetAction(parse => Run(parse.GetValue(defs)!, parse.GetValue(json), io));
        return command;
    }

    private static int Run(string path, bool json, Io io)
    {
        if (!File.Exists(path))
        {
            io.Err.WriteLine($"error: cannot read definition file '{path}': no such file");
            return CliApp.Usage;
        }
        var compiled = DefinitionCompiler.CompileFile(path, Defaults.Connectors, out var errors);
        if (json)
        {
            // {"file", "valid", "resolvers": [{name, source, kind, message_type, features}], "errors": [{code, message, file, line, column, resolver, feature}]}
            io.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["file"] = path,
                ["valid"] = compiled is not null,
                ["resolvers"] = (compiled?.Resolvers ?? []).Select(r => new Dictionary<string, object>
                {
                    ["name"] = r.Name, ["source"] = r.Source.Name, ["kind"] = r.Source.Kind.Value, ["message_type"] = r.MessageType.ToString(),
                    ["features"] = r.OutputFeatures.ToArray(),
                }).ToArray(),
                ["errors"] = errors.Select(e => new Dictionary<string, object?>
                {
                    ["code"] = e.Code, ["message"] = e.Message, ["file"] = e.Location.File, ["line"] = e.Location.Line, ["column"] = e.Location.Column,
                    ["resolver"] = e.Resolver, ["feature"] = e.Feature,
                }).ToArray(),
            }));
            return compiled is null ? CliApp.Invalid : CliApp.Ok;
        }
        if (compiled is null)
        {
            foreach (var e in errors) io.Out.WriteLine(e);
            io.Out.WriteLine($"{errors.Count} error{(errors.Count == 1 ? "" : "s")} in {path}");
            return CliApp.Invalid;
        }
        foreach (var r in compiled.Resolvers)
            io.Out.WriteLine($"ok  {r.Name}: {r.Source.Name} ({r.Source.Kind.Value}) -> {r.MessageType} -> {string.Join(", ", r.OutputFeatures)}");
        io.Out.WriteLine($"{compiled.Resolvers.Count} resolver{(compiled.Resolvers.Count == 1 ? "" : "s")} valid in {path}");
        return CliApp.Ok;
    }
}
