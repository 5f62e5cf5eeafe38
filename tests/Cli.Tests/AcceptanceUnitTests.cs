using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using Parquet;

namespace Sluice.Cli.Tests;

/// <summary>
/// The golden cases under tests/Acceptance, each a folder with recordings and <c>case.json</c> (expected outcome counts,
/// online values, offline rows, sink lines, dead letters), run end to end through the CLI into a temp folder (embedded
/// stores, no server). A case runs the shared <c>tests/Acceptance/sluice.yaml</c> unless its folder has a definition
/// file of its own. Adding a case is adding a folder.
/// </summary>
public sealed class AcceptanceUnitTests : IDisposable
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Acceptance");
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-acceptance-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var d in Directory.GetDirectories(Root).Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(d));
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public async Task Case(string name)
    {
        var dir = Path.Combine(Root, name);
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "case.json")))!.AsObject();
        var defs = File.Exists(Path.Combine(dir, "sluice.yaml")) ? Path.Combine(dir, "sluice.yaml") : Path.Combine(Root, "sluice.yaml");
        string online = $"sqlite:{Path.Combine(_dir, "online.db")}", offline = Path.Combine(_dir, "offline"), sinks = Path.Combine(_dir, "sinks"), dead = Path.Combine(_dir, "dead.jsonl");

        var args = new List<string> { "replay", defs };
        args.AddRange(spec["recordings"]!.AsArray().Select(r => Path.Combine(dir, r!.GetValue<string>())));
        args.AddRange(spec["args"]?.AsArray().Select(a => a!.GetValue<string>()) ?? []);
        args.AddRange(["--json", "--online", online, "--offline", offline, "--sink-dir", sinks, "--dead-letter", dead]);
        var (code, output, err) = Cli.Run([.. args]);
        code.Should().Be(0, err);

        var actual = JsonNode.Parse(output)!["resolvers"]!.AsObject();
        actual.Select(r => r.Key).Should().BeEquivalentTo(spec["outcomes"]!.AsObject().Select(r => r.Key), "exactly the resolvers that run in the environment report");
        foreach (var (resolver, counts) in spec["outcomes"]!.AsObject())
            foreach (var outcome in new[] { "written", "filtered", "late", "skipped", "duplicate", "parse_failed", "failed" })
                actual[resolver]![outcome]!.GetValue<long>().Should().Be(counts![outcome]?.GetValue<long>() ?? 0, $"{resolver}.{outcome}");

        foreach (var entity in spec["online"]?.AsArray() ?? [])
        {
            var (getCode, json, getErr) = Cli.Run("get", defs, "--online", online, entity!["class"]!.GetValue<string>(), entity["key"]!.GetValue<string>());
            if (entity["values"] is not JsonObject values)
            {
                getCode.Should().Be(1, $"{entity["class"]} {entity["key"]} must not be in the online store");
                continue;
            }
            getCode.Should().Be(0, getErr);
            JsonNode.DeepEquals(JsonNode.Parse(json), values).Should().BeTrue($"online {entity["class"]} {entity["key"]}: expected {values.ToJsonString()} but got {json}");
        }

        foreach (var (ns, rows) in spec["offline"]?.AsObject() ?? [])
        {
            var files = Directory.Exists(Path.Combine(offline, ns)) ? Directory.GetFiles(Path.Combine(offline, ns), "*.parquet", SearchOption.AllDirectories) : [];
            if (rows is null) { files.Should().BeEmpty($"nothing may be written offline for {ns}"); continue; }
            var expected = rows.AsArray().Select(r => r!.AsObject()).ToList();
            var read = await ReadParquet(files);
            read.Should().HaveCount(expected.Count, $"offline rows of {ns}");
            foreach (var e in expected)
                read.Should().Contain(r => e.All(kv => r.ContainsKey(kv.Key) && r[kv.Key] == kv.Value!.ToJsonString()),
                    $"an offline row of {ns} matching {e.ToJsonString()}");
            foreach (var f in files) Path.GetDirectoryName(f)!.Should().MatchRegex(@"date=\d{4}-\d{2}-\d{2}$");
        }

        foreach (var (file, lines) in spec["sinks"]?.AsObject() ?? [])
        {
            var written = File.ReadAllLines(Path.Combine(sinks, file)).Select(l => JsonNode.Parse(l)).ToList();
            written.Should().HaveCount(lines!.AsArray().Count, file);
            for (int i = 0; i < written.Count; i++)
                JsonNode.DeepEquals(written[i], lines[i]).Should().BeTrue($"{file} line {i + 1}: expected {lines[i]!.ToJsonString()} but got {written[i]!.ToJsonString()}");
        }

        var deadLetters = File.Exists(dead) ? File.ReadAllLines(dead) : [];
        var expectedDead = spec["dead_letters"]?.AsArray() ?? [];
        deadLetters.Should().HaveCount(expectedDead.Count, "dead letters");
        foreach (var d in expectedDead)
            deadLetters.Any(l => DeadLetterMatches(l, d!)).Should().BeTrue($"a dead letter like {d!.ToJsonString()} is among {string.Join("\n", deadLetters)}");
    }

    private static bool DeadLetterMatches(string line, JsonNode expected)
    {
        var h = JsonNode.Parse(line)!["headers"]!.AsArray().Select(x => x!.GetValue<string>()).ToList();
        return Header(h, "sluice-resolver") == expected["resolver"]!.GetValue<string>() && Header(h, "sluice-source") == expected["source"]!.GetValue<string>()
            && (Header(h, "sluice-error") ?? "").Contains(expected["error_contains"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private static string? Header(List<string> flat, string name)
    {
        for (int i = 0; i + 1 < flat.Count; i += 2) if (flat[i] == name) return flat[i + 1];
        return null;
    }

    /// <summary>Every row of the files, each column's value as JSON text (timestamps ISO-8601 UTC).</summary>
    private static async Task<List<Dictionary<string, string>>> ReadParquet(string[] files)
    {
        var rows = new List<Dictionary<string, string>>();
        foreach (var file in files)
        {
            await using var reader = await ParquetReader.CreateAsync(file);
            var fields = reader.Schema.GetDataFields();
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var columns = new List<Array>();
                foreach (var f in fields) columns.Add(await ReadColumn(group, f));
                for (int r = 0; r < group.RowCount; r++)
                    rows.Add(fields.Select((f, c) => (f.Name, Text: Json(columns[c].GetValue(r)))).ToDictionary(x => x.Name, x => x.Text));
            }
        }
        return rows;
    }

    private static async Task<Array> ReadColumn(Parquet.ParquetRowGroupReader group, Parquet.Schema.DataField f)
    {
        int n = (int)group.RowCount;
        switch (f.ClrType)
        {
            case var t when t == typeof(long): { var a = new long?[n]; await group.ReadAsync<long>(f, a); return a; }
            case var t when t == typeof(double): { var a = new double?[n]; await group.ReadAsync<double>(f, a); return a; }
            case var t when t == typeof(bool): { var a = new bool?[n]; await group.ReadAsync<bool>(f, a); return a; }
            case var t when t == typeof(DateTime): { var a = new DateTime?[n]; await group.ReadAsync<DateTime>(f, a); return a; }
            case var t when t == typeof(DateOnly): { var a = new DateOnly?[n]; await group.ReadAsync<DateOnly>(f, a); return a; }
            case var t when t == typeof(string) || t == typeof(ReadOnlyMemory<char>): { var a = new string[n]; await group.ReadAsync(f, a); return a; }
            default: throw new NotSupportedException($"column {f.Name} of {f.ClrType}");
        }
    }

    private static string Json(object? v) => v switch
    {
        null => "null",
        DateTime t => JsonSerializer.Serialize(t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture)),
        _ => JsonSerializer.Serialize(v),
    };
}
