using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Runtime;

namespace Sluice.TestSupport;

/// <summary>Compiles definitions the way the CLI does (every kind Sluice ships), throwing with every error when there is one.</summary>
internal static class TestDefinitions
{
    /// <summary>The kinds the tests compile and run against.</summary>
    public static Connectors Connectors => Defaults.Connectors;

    /// <summary>Compiles YAML text; <paramref name="file"/> names it in locations.</summary>
    public static CompiledDefinitions Compile(string yaml, string file = "test.yaml") =>
        DefinitionCompiler.CompileText(yaml, file, Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));

    /// <summary>Compiles a definition file.</summary>
    public static CompiledDefinitions CompileFile(string path) =>
        DefinitionCompiler.CompileFile(path, Connectors, out var errors) ?? throw new InvalidOperationException(string.Join("\n", errors));
}
