using System.Text;
using System.Text.RegularExpressions;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.TestSupport;

namespace Sluice.Pipeline.Tests.Compilation;

/// <summary>
/// Hostile definitions: random mutations of the examples' YAML and .proto files never crash the compiler; every error
/// it reports carries an SLU code and a file:line:col inside the file it names.
/// </summary>
public partial class DefinitionMutationUnitTests
{
    private const int MutationsPerFile = 1000;
    private static readonly string Examples = Path.Combine(AppContext.BaseDirectory, "examples");

    public static TheoryData<string> YamlFiles() =>
    [
        Path.Combine(AppContext.BaseDirectory, "Definitions", "seed.yaml"),
        .. Directory.GetFiles(Examples, "sluice.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal),
    ];

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void Mutated_yaml_is_reported_never_thrown(string path)
    {
        var original = File.ReadAllText(path);
        var dir = Path.GetDirectoryName(path)!;
        for (int seed = 0; seed < MutationsPerFile; seed++)
        {
            var text = Mutate(original, new Random(seed));
            // Compiled where it lies, so that the protos it names resolve as in the original.
            var file = Path.Combine(dir, $"mutated-{seed}.yaml");
            File.WriteAllText(file, text);
            try
            {
                Check(() => DefinitionCompiler.CompileFile(file, TestDefinitions.Connectors, out var errors) is null ? errors : [],
                    text, $"{Path.GetFileName(dir)}/sluice.yaml, seed {seed}", file);
            }
            finally
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public void A_mutated_proto_file_is_reported_never_thrown()
    {
        var example = Path.Combine(Examples, "protobuf-users");
        var original = File.ReadAllText(Path.Combine(example, "protos", "user.proto"));
        var folder = Directory.CreateTempSubdirectory("sluice-proto-mutations-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "protos"));
            var yaml = Path.Combine(folder, "sluice.yaml");
            File.Copy(Path.Combine(example, "sluice.yaml"), yaml);
            var proto = Path.Combine(folder, "protos", "user.proto");
            for (int seed = 0; seed < MutationsPerFile; seed++)
            {
                var text = Mutate(original, new Random(seed));
                File.WriteAllText(proto, text);
                Check(() => DefinitionCompiler.CompileFile(yaml, TestDefinitions.Connectors, out var errors) is null ? errors : [],
                    text, $"user.proto, seed {seed}", yaml, proto);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("features:\n  User: [\n    user_id: int64\n")]
    [InlineData("features: {User: {user_id: int64}\nresolvers:\n")]
    [InlineData("features:\n  User:\n    user_id: \"int64\n")]
    [InlineData("resolvers:\n  r: &a\n    source: *b\n")]
    [InlineData("features:\n\tUser: {}\n")]
    [InlineData("? [a, b]\n: c\n")]
    [InlineData("features: !!binary AAAA\n")]
    [InlineData("---\nfeatures: {}\n---\nresolvers: {}\n")]
    public void Broken_yaml_syntax_is_one_located_error(string text)
    {
        DefinitionCompiler.CompileText(text, "sluice.yaml", TestDefinitions.Connectors, out var errors, _ => null).Should().BeNull();
        errors.Should().NotBeEmpty();
        foreach (var e in errors) ShouldBeLocated(e, text, "sluice.yaml");
    }

    private static void Check(Func<IReadOnlyList<DefinitionDiagnostic>> compile, string text, string what, params string[] files)
    {
        IReadOnlyList<DefinitionDiagnostic> errors;
        try
        {
            errors = compile();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{what}: the compiler threw instead of reporting\n--- mutated text ---\n{text}", e);
        }
        foreach (var e in errors)
        {
            e.Location.File.Should().BeOneOf(files, $"{what}: {e}");
            if (e.Location.File == files[^1]) ShouldBeLocated(e, text, what);
        }
    }

    private static void ShouldBeLocated(DefinitionDiagnostic e, string text, string what)
    {
        Code().IsMatch(e.Code).Should().BeTrue($"{what}: {e} has an SLU code");
        int lines = text.Split('\n').Length;
        e.Location.Line.Should().BeInRange(1, lines + 1, $"{what}: {e} names a line of the file");
        e.Location.Column.Should().BeGreaterThanOrEqualTo(1, $"{what}: {e} names a column");
        e.Message.Should().NotContain("   at ", $"{what}: {e} carries no stack trace");
    }

    [GeneratedRegex(@"^SLU\d{3}$")]
    private static partial Regex Code();

    private static readonly string[] Insertions =
        ["[", "]", "{", "}", ":", ": ", "\"", "'", "\t", "&a ", "*a", "!tag ", "!!binary ", "- ", "#", "|", ">", "%", "@", "`", ",", "?",
         "\0", "\u00e9", "\ud83d\ude00", "\n", "\n  ", "${", "${X}", "}", "_.", "F.", "(", ")", "\\", "0x", "1e400", "-", "=", ";", "message ", "repeated ", "oneof ", "import \"x.proto\";"];

    /// <summary>One to three edits: insert a token, delete a range, duplicate, drop or swap lines, truncate, re-indent.</summary>
    private static string Mutate(string text, Random random)
    {
        var s = new StringBuilder(text);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && s.Length > 0; e++)
        {
            int at = random.Next(s.Length);
            switch (random.Next(7))
            {
                case 0: s.Insert(at, Insertions[random.Next(Insertions.Length)]); break;
                case 1: s.Remove(at, Math.Min(s.Length - at, random.Next(1, 12))); break;
                case 2:
                {
                    var lines = s.ToString().Split('\n').ToList();
                    int i = random.Next(lines.Count);
                    lines.Insert(i, lines[random.Next(lines.Count)]);
                    s = new StringBuilder(string.Join('\n', lines));
                    break;
                }
                case 3:
                {
                    var lines = s.ToString().Split('\n').ToList();
                    lines.RemoveAt(random.Next(lines.Count));
                    s = new StringBuilder(string.Join('\n', lines));
                    break;
                }
                case 4:
                {
                    var lines = s.ToString().Split('\n');
                    int i = random.Next(lines.Length), j = random.Next(lines.Length);
                    (lines[i], lines[j]) = (lines[j], lines[i]);
                    s = new StringBuilder(string.Join('\n', lines));
                    break;
                }
                case 5: s.Length = at; break;
                default:
                {
                    var lines = s.ToString().Split('\n');
                    int i = random.Next(lines.Length);
                    lines[i] = random.Next(2) == 0 ? " " + lines[i] : lines[i].TrimStart();
                    s = new StringBuilder(string.Join('\n', lines));
                    break;
                }
            }
        }
        return s.ToString();
    }
}
