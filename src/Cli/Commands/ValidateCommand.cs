using System.CommandLine;
using Sluice.Pipeline.Compilation;

namespace Sluice.Cli;

/// <summary><c>sluice validate &lt;defs.yaml&gt;</c>: compiles every resolver; prints every error with file:line:col and its SLU code; exit 1 if any.</summary>
internal static class ValidateCommand
{
    public static Command Create(Io io)
    {
        var defs = CommonOptions.Definitions();
        var command = new Command("validate", "compile every resolver; print every error; exit 1 if any") { defs };
        command.SetAction(parse => Run(parse.GetValue(defs)!, io));
        return command;
    }

    private static int Run(string path, Io io)
    {
        if (!File.Exists(path))
        {
            io.Err.WriteLine($"error: cannot read definition file '{path}': no such file");
            return CliApp.Usage;
        }
        var compiled = DefinitionCompiler.CompileFile(path, Defaults.Connectors, out var errors);
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
