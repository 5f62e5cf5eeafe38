using System.Text;
using Apache.Arrow;
using CsCheck;
using FluentAssertions;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Tests.Support;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Tests.Parsing;

public class JsonParseKernelUnitTests
{
    private static readonly TestSchema Scope = new();

    private static readonly DataType User = Scope.Parse(
        """{"id": "int64", "name": "string", "updated_at": "int64", "contact_info": {"phone_number": "string", "email_address": "string?"}}""",
        "UserMessage");

    private static ParseResult Parse(DataType type, params string[] messages) =>
        ParseKernel.For(type).Parse(ParseKernel.Messages(messages.Select(m => (byte[]?)Encoding.UTF8.GetBytes(m))));

    private static string Row(ParseResult r, int row, DataType type) => ValueText.Format(ArrowValues.GetRow(r.Column, row, type), type);

    [Fact]
    public void Parses_the_seed_message_into_nested_columns()
    {
        var r = Parse(User, """{"id": 123, "name": "John Smith", "updated_at": 1700000000000000, "contact_info": {"phone_number": "555-555-5555", "email_address": "john.smith@gmail.com"}}""");
        r.Errors.Should().BeEmpty();
        r.SourceIndex.Should().BeNull();
        Row(r, 0, User).Should().Be("""{id: 123, name: "John Smith", updated_at: 1700000000000000, contact_info: {phone_number: "555-555-5555", email_address: "john.smith@gmail.com"}}""");
        var s = (StructArray)r.Column;
        s.Fields[0].Should().BeOfType<Int64Array>();
        ((StructArray)s.Fields[3]).Fields[1].Should().BeOfType<StringArray>();
    }

    [Fact]
    public void Skips_unknown_fields_accepts_any_order_and_nulls_missing_nullable_fields()
    {
        var r = Parse(User, """{"extra": {"deep": [1, {"x": null}]}, "contact_info": {"phone_number": "1"}, "updated_at": 5, "name": "a\u00e9\"b", "id": -1, "more": true}""");
        r.Errors.Should().BeEmpty();
        Row(r, 0, User).Should().Be("""{id: -1, name: "aé\"b", updated_at: 5, contact_info: {phone_number: "1", email_address: null}}""");
    }

    [Fact]
    public void A_bad_message_is_reported_with_its_index_and_field_path_and_the_rest_parse()
    {
        var r = Parse(User,
            """{"id": 1, "name": "ok", "updated_at": 1, "contact_info": {"phone_number": "1"}}""",
            """{"id": "one", "name": "bad", "updated_at": 1, "contact_info": {"phone_number": "1"}}""",
            """{"id": 3, "name": "missing phone", "updated_at": 1, "contact_info": {"email_address": "x"}}""",
            """{"id": 4, "name": "truncated", "upd""",
            """{"id": 5, "name": "ok again", "updated_at": 1, "contact_info": {"phone_number": "1"}}""",
            """{"id": 6, "name": null, "updated_at": 1, "contact_info": {"phone_number": "1"}}""",
            """{"id": 7.5, "name": "x", "updated_at": 1, "contact_info": {"phone_number": "1"}}""",
            """{"id": 8, "name": "x", "updated_at": 1, "contact_info": {"phone_number": "1"}} trailing""");
        r.RowCount.Should().Be(2);
        r.SourceIndex.Should().Equal(0, 4);
        Row(r, 1, User).Should().Contain("\"ok again\"");
        r.Errors.Select(e => (e.Index, e.Path)).Should().Equal(
            (1, "id"), (2, "contact_info.phone_number"), (3, ""), (5, "name"), (6, "id"), (7, ""));
        r.Errors[0].Reason.Should().Contain("expected an int64").And.Contain("\"one\"");
        r.Errors[1].Reason.Should().Contain("required field is missing");
        r.Errors[2].Reason.Should().StartWith("malformed JSON");
    }

    [Fact]
    public void Lists_timestamps_dates_bools_floats_bytes_and_enums()
    {
        Scope.AddEnum("Kind", [("KIND_UNSPECIFIED", 0), ("KIND_A", 1)]);
        var t = Scope.Parse("""{"tags": "list<string?>", "at": "timestamp", "on": "date?", "ok": "bool", "x": "float64", "raw": "bytes", "k": "Kind", "items?": [{"n": "int64"}]}""", "T");
        var r = Parse(t,
            """{"tags": ["a", null], "at": "2023-11-14T22:13:20Z", "on": "2024-02-29", "ok": true, "x": 1e3, "raw": "AAE=", "k": "KIND_A", "items": [{"n": 1}, {"n": 2}]}""",
            """{"tags": [], "at": "2023-11-14T23:13:20.5+01:00", "ok": false, "x": -0.5, "raw": "", "k": 0}""");
        r.Errors.Should().BeEmpty();
        Row(r, 0, t).Should().Be("""{tags: ["a", null], at: 2023-11-14T22:13:20Z, on: 2024-02-29, ok: true, x: 1000.0, raw: b"\x00\x01", k: 1, items: [{n: 1}, {n: 2}]}""");
        Row(r, 1, t).Should().Be("""{tags: [], at: 2023-11-14T22:13:20.500000Z, on: null, ok: false, x: -0.5, raw: b"", k: 0, items: null}""");

        var bad = Parse(t, """{"tags": [1], "at": 1700000000, "ok": true, "x": 1, "raw": "", "k": 0}""");
        bad.Errors.Single().Path.Should().Be("tags[0]");
        var badTs = Parse(t, """{"tags": [], "at": 1700000000, "ok": true, "x": 1, "raw": "", "k": 0}""");
        badTs.Errors.Single().Reason.Should().Contain("F.from_unix_seconds");
    }

    [Fact]
    public void Rollback_of_a_bad_message_inside_nested_lists_leaves_no_trace()
    {
        var t = Scope.Parse("""{"groups": "list<list<int64>>", "s": {"a": "int64", "b": "list<string>"}}""", "Nested");
        var r = Parse(t,
            """{"groups": [[1, 2], [3]], "s": {"a": 1, "b": ["x"]}}""",
            """{"groups": [[4, 5], [6, "bad"]], "s": {"a": 2, "b": ["y"]}}""",
            """{"groups": [[7]], "s": {"a": 3, "b": ["z", "w"]}}""");
        r.Errors.Single().Path.Should().Be("groups[1][1]");
        Row(r, 0, t).Should().Be("""{groups: [[1, 2], [3]], s: {a: 1, b: ["x"]}}""");
        Row(r, 1, t).Should().Be("""{groups: [[7]], s: {a: 3, b: ["z", "w"]}}""");
    }

    [Fact]
    public void String_messages_are_validated_utf8_and_bytes_pass_through()
    {
        var str = ParseKernel.For(DataType.String).Parse(ParseKernel.Messages([Encoding.UTF8.GetBytes("héllo"), [0x61, 0xFF], null, "ok"u8.ToArray()]));
        str.SourceIndex.Should().Equal(0, 3);
        str.Errors.Select(e => e.Index).Should().Equal(1, 2);
        str.Errors[0].Reason.Should().Contain("not valid UTF-8").And.Contain("byte at 1");
        ((StringArray)str.Column).GetString(0).Should().Be("héllo");

        var allGood = ParseKernel.For(DataType.String).Parse(ParseKernel.Messages(["a"u8.ToArray(), "b"u8.ToArray()]));
        allGood.Errors.Should().BeEmpty();
        allGood.Column.Should().BeOfType<StringArray>();

        var bytes = ParseKernel.For(DataType.Bytes).Parse(ParseKernel.Messages([[0xFF], [1, 2]]));
        bytes.Errors.Should().BeEmpty();
        bytes.RowCount.Should().Be(2);
    }

    [Fact]
    public void Random_and_truncated_bytes_never_throw_and_every_message_is_accounted_for()
    {
        var valid = Encoding.UTF8.GetBytes("""{"id": 123, "name": "John \u00e9 Smith", "updated_at": 1700000000000000, "contact_info": {"phone_number": "555", "email_address": null}}""");
        var kernel = ParseKernel.For(User);
        var message = Gen.OneOf(
            Gen.Byte.Array[0, 64],
            Gen.Int[0, valid.Length].Select(n => valid[..n]),
            Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, (at, b) => { var c = (byte[])valid.Clone(); c[at] = b; return c; }),
            Gen.Const(valid));
        message.Array[1, 30].Sample(batch =>
        {
            var r = kernel.Parse(ParseKernel.Messages(batch));
            (r.RowCount + r.Errors.Count).Should().Be(batch.Length);
            r.Errors.Select(e => e.Index).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            for (int row = 0; row < r.RowCount; row++)
                batch[r.MessageIndex(row)].Should().NotBeNull();
            // The column is well-formed: every row reads back.
            for (int row = 0; row < r.RowCount; row++) ArrowValues.GetRow(r.Column, row, User);
        }, iter: 3000);
    }

    [Fact]
    public void Schema_specialized_fast_path_gives_exactly_what_the_general_path_gives()
    {
        var t = Scope.Parse("""{"id": "int64", "x": "float64?", "ok": "bool?", "name": "string", "tags": "list<int64?>?", "c?": {"p": "string", "e": "string?"}}""", "Fast");
        var fast = new JsonParseKernel(t, fastPath: true);
        var general = new JsonParseKernel(t, fastPath: false);
        var ws = Gen.OneOf(Gen.Const(""), Gen.Const(" "), Gen.Const("\n\t "), Gen.Const("\r\n"));
        var intText = Gen.Frequency((6, Gen.Long.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))), (1, Gen.OneOf(Gen.Long.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.OneOf(Gen.Const("-0"), Gen.Const("007"), Gen.Const("1.0"), Gen.Const("1e2"), Gen.Const("9223372036854775808"),
                Gen.Const("-9223372036854775808"), Gen.Const("99999999999999999999"), Gen.Const("-"), Gen.Const("\"1\""), Gen.Const("null")))));
        var floatText = Gen.OneOf(Gen.Double.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
            Gen.OneOf(Gen.Const("0.1"), Gen.Const("-2.5e-3"), Gen.Const("1E400"), Gen.Const(".5"), Gen.Const("1."), Gen.Const("01.5"), Gen.Const("3"), Gen.Const("null"), Gen.Const("NaN")));
        var strText = Gen.OneOf(Gen.String[Gen.Char["abé \u00e9"], 0, 6].Select(v => "\"" + v + "\""),
            Gen.OneOf(Gen.Const("\"a\\\"b\""), Gen.Const("\"\\u00e9\""), Gen.Const("\"tab\there\""), Gen.Const("null"), Gen.Const("5")));
        var boolText = Gen.OneOf(Gen.Const("true"), Gen.Const("false"), Gen.Const("null"), Gen.Const("tru"));
        var tagsText = Gen.OneOf(Gen.Const("[]"), Gen.Const("[1, null, 3]"), Gen.Const("[ 1 ,2]"), Gen.Const("null"), Gen.Const("[1,]"), Gen.Const("[\"x\"]"));
        var cText = Gen.OneOf(Gen.Const("{\"p\": \"1\", \"e\": \"a@b\"}"), Gen.Const("{\"e\": null, \"p\": \"2\"}"), Gen.Const("{}"), Gen.Const("null"), Gen.Const("{\"p\": \"1\", \"p\": \"2\"}"));
        var field = Gen.OneOf(
            intText.Select(v => ("id", v)), floatText.Select(v => ("x", v)), boolText.Select(v => ("ok", v)), strText.Select(v => ("name", v)),
            tagsText.Select(v => ("tags", v)), cText.Select(v => ("c", v)), Gen.Const(("unknown", "{\"deep\": [1, {}]}")));
        var required = Gen.Select(Gen.Long, Gen.String[Gen.Char["abz é"], 0, 6], (id, n) => new[] { ("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("name", "\"" + n + "\"") });
        var message = Gen.Select(required, field.Array[0, 6], ws, ws, (req, fields, w1, w2) =>
            "{" + w1 + string.Join("," + w2, fields.Concat(req).Select(f => "\"" + f.Item1 + "\"" + w1 + ":" + w2 + f.Item2)) + w2 + "}");
        long rows = 0, errors = 0;
        message.Array[1, 20].Sample(batch =>
        {
            var input = ParseKernel.Messages(batch.Select(m => (byte[]?)Encoding.UTF8.GetBytes(m)));
            var a = fast.Parse(input);
            var b = general.Parse(input);
            a.Errors.Should().BeEquivalentTo(b.Errors, o => o.WithStrictOrdering());
            a.RowCount.Should().Be(b.RowCount);
            for (int row = 0; row < a.RowCount; row++) Row(a, row, t).Should().Be(Row(b, row, t));
            Interlocked.Add(ref rows, a.RowCount);
            Interlocked.Add(ref errors, a.Errors.Count);
        }, iter: 2000);
        // Both outcomes must be well represented, or the comparison proves little.
        rows.Should().BeGreaterThan(2000);
        errors.Should().BeGreaterThan(1000);
    }
}
