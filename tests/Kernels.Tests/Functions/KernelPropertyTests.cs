using Apache.Arrow;
using CsCheck;
using FluentAssertions;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Tests.Support;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Tests.Functions;

/// <summary>
/// The vectorized kernel of every operator and function equals the row interpreter on random batches with nulls,
/// edge values (int64 bounds, NaN, -0.0, empty and non-ASCII strings, pre-1970 and out-of-calendar timestamps)
/// and sliced (non-zero offset) inputs.
/// </summary>
public class KernelPropertyTests
{
    private static readonly TestSchema Scope = new();

    private static readonly DataType Schema = Scope.Parse("""
        {"i": "int64?", "j": "int64?", "f": "float64?", "g": "float64?", "s": "string?", "t": "string?", "b": "bytes?",
         "p": "bool?", "q": "bool?", "ts": "timestamp?", "tt": "timestamp?", "d": "date?", "li": "list<int64?>?",
         "lf": "list<float64?>?", "ls": "list<string?>?", "st?": {"x": "int64?", "y": "string?"},
         "ss?": [{"x": "int64?", "y": "string?"}, null]}
        """, "P");

    /// <summary>Every operator, and every catalogue function at least once.</summary>
    public static readonly string[] Expressions =
    [
        "_.i + _.j", "_.i - _.j", "_.i * _.j", "_.i / _.j", "_.i // _.j", "_.i % _.j", "_.i + 1", "3 - _.i", "_.i // 0", "_.i % -3",
        "_.f + _.g", "_.f - _.g", "_.f * _.g", "_.f / _.g", "_.f // _.g", "_.f % _.g", "_.i + _.f", "_.f % 2.5", "-_.i", "-_.f",
        "_.i == _.j", "_.i != _.j", "_.i < _.j", "_.i <= _.j", "_.i > _.j", "_.i >= _.j", "_.i < 3", "5 >= _.j",
        "_.f < _.g", "_.f == _.g", "_.f != _.g", "_.f >= 0.5", "_.i < _.f",
        "_.s < _.t", "_.s == _.t", "_.s >= 'm'", "_.b < _.b", "_.b == b'a'", "_.p < _.q", "_.p == True", "_.ts < _.tt", "_.ts == _.tt", "_.d >= _.d", "_.d < _.d",
        "_.p and _.q", "_.p or _.q", "not _.p", "_.p & (_.i > 0)", "_.q | (_.s == 'a')", "_.i == None", "_.s != None",
        "F.from_unix_seconds(_.i)", "F.from_unix_seconds(_.f)", "F.from_unix_milliseconds(_.i)", "F.from_unix_milliseconds(_.f)",
        "F.to_unix_seconds(_.ts)", "F.format_datetime(_.ts, '%Y-%m-%d %H:%M:%S.%f %a %A %b %B %j %y %I%p %Z%z %% %F %T')",
        "F.day_of_week(_.ts)", "F.day_of_week(_.d)", "F.hour_of_day(_.ts)",
        "F.lower(_.s)", "F.upper(_.s)", "F.trim(_.s)", "F.substr(_.s, _.i % 7, _.j % 5)", "F.substr(_.s, 2, None)", "F.substr(_.s, -3)",
        "F.substr(_.b, _.i % 5, 3)", "F.length(_.s)", "F.length(_.b)", "F.concat(_.s, '-', _.i, _.f, _.p, _.ts, _.d)", "F.concat(_.b, _.b)",
        "F.starts_with(_.s, _.t)", "F.ends_with(_.s, F.substr(_.s, -2))", "F.contains(_.s, _.t)", "F.contains(_.s, 'a')",
        "F.replace(_.s, 'a', 'XY')", "F.replace(_.s, _.t, '')", "F.split_part(_.s, ',', _.i % 4)", "F.split_part(_.s, _.t, 0)",
        "F.regexp_like(_.s, '^[a-z]+')", "F.regexp_extract(_.s, '[0-9]+')", "F.regexp_extract(_.s, '([a-z])([a-z])', 2)",
        "F.strpos(_.s, _.t)", "F.strpos(_.s, 'é')", "_.s + _.t",
        "F.coalesce(_.i, _.j, 7)", "F.coalesce(_.s, _.t)", "F.coalesce(_.li, _.li)", "F.is_null(_.i)", "F.is_null(_.st)",
        "F.if_then_else(_.p, _.i, _.j)", "F.if_then_else(_.p, _.s, None)", "F.if_then_else(_.q, _.st, None)", "F.if_then_else(_.p, _.i, _.f)",
        "F.abs(_.i)", "F.abs(_.f)", "F.round(_.f)", "F.round(_.f, 2)", "F.round(_.i)", "F.floor(_.f)", "F.ceil(_.f)", "F.floor(_.i)",
        "F.sqrt(_.f)", "F.sqrt(_.i)", "F.ln(_.f)", "F.power(_.f, _.g)", "F.power(_.i, 2)",
        "F.least(_.i, _.j, 0)", "F.greatest(_.f, _.g)", "F.greatest(_.s, _.t)", "F.least(_.ts, _.tt)", "F.greatest(_.i, _.f)",
        "F.md5(_.s)", "F.sha1(_.b)", "F.sha256(_.s)", "F.xxhash64(_.s)", "F.xxhash64(_.b)",
        "F.json_value(_.s, '$.a')", "F.json_value(_.s, '$.b[1]')", "F.json_extract_array(_.s, '$.b')",
        "F.cast(_.i, float64)", "F.cast(_.f, int64)", "F.cast(_.i, string)", "F.cast(_.f, string)", "F.cast(_.s, int64)",
        "F.cast(_.s, float64)", "F.cast(_.s, bool)", "F.cast(_.s, timestamp)", "F.cast(_.s, date)", "F.cast(_.ts, string)",
        "F.cast(_.d, string)", "F.cast(_.ts, date)", "F.cast(_.d, timestamp)", "F.cast(_.p, int64)", "F.cast(_.i, bool)",
        "F.cast(_.b, string)", "F.cast(_.s, bytes)", "F.cast(_.ts, int64)", "F.cast(_.i, timestamp)", "F.cast(_.p, string)", "F.cast(_.d, int64)",
        "F.array_count(_.li)", "F.element_at(_.li, _.i % 4)", "F.element_at(_.ls, -1)", "F.array_sum(_.li)", "F.array_sum(_.lf)",
        "F.array_max(_.li)", "F.array_min(_.lf)", "F.array_max(_.ls)", "F.array_min(_.li)", "F.contains(_.li, _.i)", "F.contains(_.ls, _.s)", "F.contains(_.lf, _.f)",
        "_.st.x + 1", "_.st.y", "_.st",
        "_.ss.x", "_.ss.y", "F.array_sum(_.ss.x)", "F.array_max(_.ss.y)", "F.contains(_.ss.y, _.s)", "F.element_at(_.ss.x, _.i % 3)",
    ];

    private static readonly Gen<long> Int64 = Gen.OneOf(
        Gen.Long[-10, 10], Gen.Long,
        Gen.OneOf(long.MinValue, long.MaxValue, 0L, -1L, 1L, 1_700_000_000L, -86_400L, 1_700_000_000_000_000L));

    private static readonly Gen<double> Float64 = Gen.OneOf(
        Gen.Double[-10, 10], Gen.Double[-2e9, 2e9], Gen.Double,
        Gen.OneOf(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0, 0.5, -2.5, 1e300, 1_700_000_000.123456));

    private static readonly Gen<string> Text = Gen.OneOf(
        Gen.String[Gen.Char["abcxyz ,-.0129AZ\t"], 0, 12],
        Gen.String[Gen.OneOf('a', 'é', 'ß', 'İ', 'Σ', 'ς', '日', '\u00A0', ' ', ',', '1', 'K', 'ǅ'), 0, 8],
        Gen.OneOf("", " ", "😀x", "a😀b", "42", "-7", "3.5", "1e3", "nan", "inf", "true", "FALSE", "0",
            "2023-11-14T22:13:20Z", "2023-11-14", "1969-12-31T23:59:59.5+01:00",
            "{\"a\": 1, \"b\": [1, \"x\", null, {\"c\": 2}]}", "{\"a\": \"é\\n\", \"b\": []}", "{\"b\": [true, false, 2.50]}", "[1]", "{\"a\": [1,"));

    private static readonly Gen<byte[]> Bytes = Gen.OneOf(
        Gen.Byte.Array[0, 10],
        Gen.OneOf(System.Array.Empty<byte>(), "a"u8.ToArray(), new byte[] { 0xFF, 0xFE }, "héllo"u8.ToArray()));

    private static readonly Gen<long> Micros = Gen.OneOf(
        Gen.Long[-62_135_596_800_000_000L, 253_402_300_799_999_999L],
        Gen.Long[-100_000_000_000L, 100_000_000_000L],
        Gen.OneOf(0L, -1L, 1L, -62_135_596_800_000_000L, 253_402_300_799_999_999L, long.MaxValue, long.MinValue));

    private static readonly Gen<int> Days = Gen.Int[-719_162, 2_932_896];

    private static Gen<object?> Nullable<T>(Gen<T> g) => Gen.Frequency((1, Gen.Bool.Select(_ => (object?)null)), (5, g.Select(v => (object?)v)));

    private static readonly Gen<object?[]> Row = Gen.Select(
        Gen.Select(Nullable(Int64), Nullable(Int64), Nullable(Float64), Nullable(Float64), Nullable(Text), Nullable(Text), Nullable(Bytes), Nullable(Gen.Bool)),
        Gen.Select(Nullable(Gen.Bool), Nullable(Micros), Nullable(Micros), Nullable(Days),
            Nullable(Nullable(Int64).Array[0, 5].Select(a => (object?[])a)),
            Nullable(Nullable(Float64).Array[0, 5].Select(a => (object?[])a)),
            Nullable(Nullable(Text).Array[0, 4].Select(a => (object?[])a)),
            Nullable(Gen.Select(Nullable(Int64), Nullable(Text), (x, y) => new object?[] { x, y }))),
        Nullable(Nullable(Gen.Select(Nullable(Int64), Nullable(Text), (x, y) => new object?[] { x, y })).Array[0, 4].Select(a => (object?[])a)),
        (a, b, c) => new object?[] { a.Item1, a.Item2, a.Item3, a.Item4, a.Item5, a.Item6, a.Item7, a.Item8, b.Item1, b.Item2, b.Item3, b.Item4, b.Item5, b.Item6, b.Item7, b.Item8, c });

    private static readonly Gen<object?[][]> Batch = Row.Array[1, 40];

    [Fact]
    public void Every_catalogue_function_has_a_property_case()
    {
        var used = Expressions.SelectMany(e => System.Text.RegularExpressions.Regex.Matches(e, @"F\.(\w+)\(").Select(m => m.Groups[1].Value)).ToHashSet();
        FunctionCatalog.Names.Where(n => n != "proto_deserialize" && !used.Contains(n)).Should().BeEmpty();
    }

    public static TheoryData<string> Cases() => [.. Expressions];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernel_equals_row_interpreter(string expression)
    {
        var compiled = Expression.Compile(expression, Schema, Scope);
        Batch.Sample(rows =>
        {
            var batch = ArrowValues.FromRows(rows, Schema);
            Check(compiled, batch, rows);
            if (rows.Length > 3)
            {
                // A slice exercises non-zero offsets in every input buffer.
                var slice = ArrowArrayFactory.Slice(batch, 2, rows.Length - 3);
                Check(compiled, slice, rows[2..^1]);
            }
        }, iter: 60, seed: null);
    }

    private static void Check(CompiledExpression compiled, IArrowArray batch, object?[][] rows)
    {
        var result = compiled.Evaluate(batch);
        result.Length.Should().Be(rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var kernel = ValueText.Format(ArrowValues.GetRow(result, i, compiled.Type), compiled.Type);
            var oracle = ValueText.Format(compiled.EvaluateRow(ArrowValues.GetRow(batch, i, Schema)), compiled.Type);
            if (kernel != oracle)
                throw new Xunit.Sdk.XunitException($"row {i} of {rows.Length}: kernel {kernel} != interpreter {oracle}; input {ValueText.Format(ArrowValues.GetRow(batch, i, Schema), Schema)}");
            if (!compiled.Type.IsNullable && result.IsNull(i))
                throw new Xunit.Sdk.XunitException($"row {i}: null from an expression typed non-nullable {compiled.Type}");
        }
    }
}
