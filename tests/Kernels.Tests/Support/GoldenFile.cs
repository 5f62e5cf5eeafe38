namespace Sluice.Kernels.Tests.Support;

/// <summary>
/// One golden case per line: <c>message :: expression =&gt; expected</c> (message omitted for error files:
/// <c>expression =&gt; SLU101</c>). Directives: <c>@schema &lt;schema&gt;</c>, <c>@enum Name A=0 B=1</c>. '#' starts a comment.
/// </summary>
internal sealed record GoldenCase(string File, int Line, TestSchema Scope, string SchemaText, string? Message, string Expression, string Expected)
{
    public override string ToString() => $"{File}:{Line}: {Expression}";

    public static IEnumerable<GoldenCase> Load(string file)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Golden", file);
        var scope = new TestSchema();
        string schema = "string";
        int lineNo = 0;
        foreach (var raw in System.IO.File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith("@schema ", StringComparison.Ordinal)) { schema = line[8..]; continue; }
            if (line.StartsWith("@enum ", StringComparison.Ordinal))
            {
                var parts = line[6..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                scope.AddEnum(parts[0], parts.Skip(1).Select(p => (p.Split('=')[0], long.Parse(p.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture))));
                continue;
            }
            int arrow = line.LastIndexOf(" => ", StringComparison.Ordinal);
            if (arrow < 0) throw new FormatException($"{file}:{lineNo}: missing ' => '");
            var left = line[..arrow];
            var expected = line[(arrow + 4)..].Trim();
            int sep = left.IndexOf(" :: ", StringComparison.Ordinal);
            yield return sep < 0
                ? new GoldenCase(file, lineNo, scope, schema, null, left.Trim(), expected)
                : new GoldenCase(file, lineNo, scope, schema, left[..sep].Trim(), left[(sep + 4)..].Trim(), expected);
        }
    }
}
