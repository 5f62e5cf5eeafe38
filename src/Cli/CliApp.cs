using System.CommandLine;
using Sluice.Pipeline.Compilation;

namespace Sluice.Cli;

/// <summary>
/// The <c>sluice</c> command line (DESIGN.md section 7). Exit codes: 0 done; 1 <c>validate</c> found errors;
/// 2 wrong arguments or unreadable input, with a clear message and no stack trace.
/// </summary>
internal static class CliApp
{
    public const int Ok = 0, Invalid = 1, Usage = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var defs = new Argument<string>("defs") { Description = "the definition file (sluice.yaml)" };
        var validate = new Command("validate", "compile all resolvers; print every error; exit 1 if any") { defs };
        validate.SetAction(parse => Validate(parse.GetValue(defs)!, stdout, stderr));

        var root = new RootCommand("Sluice: stream resolvers for .NET") { validate };
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var e in result.Errors) stderr.WriteLine($"error: {e.Message}");
            stderr.WriteLine("run 'sluice --help' for usage");
            return Usage;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Usage;
        }
    }

    private static int Validate(string path, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(path))
        {
            stderr.WriteLine($"error: cannot read definition file '{path}': no such file");
            return Usage;
        }
        var compiled = DefinitionCompiler.CompileFile(path, out var errors);
        if (compiled is null)
        {
            foreach (var e in errors) stdout.WriteLine(e);
            stdout.WriteLine($"{errors.Count} error{(errors.Count == 1 ? "" : "s")} in {path}");
            return Invalid;
        }
        foreach (var r in compiled.Resolvers)
            stdout.WriteLine($"ok  {r.Name}: {r.Source.Name} ({r.Source.Kind.Value}) -> {r.MessageType} -> {string.Join(", ", r.Outputs.Select(o => o.Feature.Fqn))}");
        stdout.WriteLine($"{compiled.Resolvers.Count} resolver{(compiled.Resolvers.Count == 1 ? "" : "s")} valid in {path}");
        return Ok;
    }
}
