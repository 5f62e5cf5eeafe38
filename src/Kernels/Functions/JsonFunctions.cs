using System.Globalization;
using System.Text;
using System.Text.Json;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>
/// json_value(s, "$.a.b[0]") and json_extract_array(s, "$.items"). Scalars come back as text (strings unescaped,
/// numbers as written, true/false); objects and arrays are null for json_value and their raw JSON text inside
/// json_extract_array. Malformed JSON gives null.
/// </summary>
internal static class JsonFunctions
{
    public static IEnumerable<FunctionDef> All()
    {
        yield return new Fn("json_value", "parse", ["json", "path"],
            (ctx, a) => BindPath(ctx, a, DataType.String.WithNullable(true)),
            (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) => ValueKernel(a[0].Bytes(i), (JsonPath)call.State!, o)),
            (call, v) => WithDocument(v[0]!, (JsonPath)call.State!, e => ScalarText(e)));
        yield return new Fn("json_extract_array", "parse", ["json", "path"],
            (ctx, a) => BindPath(ctx, a, DataType.ListOf(DataType.String.WithNullable(true), nullable: true)),
            (call, k) => new RowLoopKernel<ListBuilder>(call.Type, k, (a, i, o) => ArrayKernel(a[0].Bytes(i), (JsonPath)call.State!, o)),
            (call, v) => WithDocument(v[0]!, (JsonPath)call.State!, e => e.ValueKind == JsonValueKind.Array
                ? e.EnumerateArray().Select(x => x.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? x.GetRawText() : ScalarText(x)).ToArray<object?>()
                : null));
    }

    private static BoundExpr? BindPath(BindContext ctx, BoundExpr[] a, DataType result)
    {
        if (!Binding.Expect(ctx, a, 0, "a JSON string or bytes", TypeKind.String, TypeKind.Bytes)) return null;
        if (!Binding.Literal<string>(ctx, a, 1, "the JSON path (e.g. \"$.metadata.timestamp\")", out var text)) return null;
        var path = JsonPath.TryParse(text, out var error);
        if (path is null) return ctx.Error(ErrorCodes.InvalidJsonPath, error!, 1);
        var s = a[0].Type.Kind == TypeKind.Null ? Binding.To(a[0], DataType.String) : a[0];
        return Binding.Call(ctx, [s], result, path);
    }

    // ---- kernels: one Utf8JsonReader pass per row, no allocation ----

    private static void ValueKernel(ReadOnlySpan<byte> json, JsonPath path, BinaryBuilder o)
    {
        try
        {
            var r = new Utf8JsonReader(json);
            if (!path.Navigate(ref r)) { Drain(ref r); o.AppendNull(); return; }
            int written = -1;
            switch (r.TokenType)
            {
                case JsonTokenType.String: written = r.CopyString(o.Reserve(r.HasValueSequence ? (int)r.ValueSequence.Length : r.ValueSpan.Length)); break;
                case JsonTokenType.Number: r.ValueSpan.CopyTo(o.Reserve(r.ValueSpan.Length)); written = r.ValueSpan.Length; break;
                case JsonTokenType.True: "true"u8.CopyTo(o.Reserve(4)); written = 4; break;
                case JsonTokenType.False: "false"u8.CopyTo(o.Reserve(5)); written = 5; break;
                default: r.Skip(); break;
            }
            Drain(ref r); // the whole document must be valid, as the row reference requires
            if (written < 0) o.AppendNull();
            else o.Commit(written);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            o.AppendNull();
        }
    }

    private static void ArrayKernel(ReadOnlySpan<byte> json, JsonPath path, ListBuilder o)
    {
        var child = (BinaryBuilder)o.Child;
        int mark = child.Length;
        try
        {
            var r = new Utf8JsonReader(json);
            if (!path.Navigate(ref r) || r.TokenType != JsonTokenType.StartArray)
            {
                if (r.TokenType is JsonTokenType.StartObject) r.Skip();
                Drain(ref r);
                o.AppendNull();
                return;
            }
            while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            {
                switch (r.TokenType)
                {
                    case JsonTokenType.String: child.Commit(r.CopyString(child.Reserve(r.ValueSpan.Length))); break;
                    case JsonTokenType.Number: child.Append(r.ValueSpan); break;
                    case JsonTokenType.True: child.Append("true"u8); break;
                    case JsonTokenType.False: child.Append("false"u8); break;
                    case JsonTokenType.Null: child.AppendNull(); break;
                    default:
                        int start = (int)r.TokenStartIndex;
                        r.Skip();
                        child.Append(json[start..(int)r.BytesConsumed]);
                        break;
                }
            }
            Drain(ref r);
            o.EndList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            child.Truncate(mark);
            o.AppendNull();
        }
    }

    private static void Drain(ref Utf8JsonReader r)
    {
        while (r.Read()) { }
    }

    // ---- row reference: JsonDocument ----

    private static object? WithDocument(object input, JsonPath path, Func<JsonElement, object?> f)
    {
        try
        {
            using var doc = JsonDocument.Parse(HashFunctions.AsBytes(input));
            var e = path.Find(doc.RootElement);
            return e is null ? null : f(e.Value);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }

    private static string? ScalarText(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}

/// <summary>A JSON path in the supported subset: <c>$</c>, <c>.name</c>, <c>['name']</c>, <c>[index]</c>.</summary>
internal sealed class JsonPath
{
    private readonly (byte[]? Name, string? NameText, int Index)[] _steps;

    private JsonPath((byte[]?, string?, int)[] steps) => _steps = steps;

    public static JsonPath? TryParse(string text, out string? error)
    {
        error = null;
        var steps = new List<(byte[]?, string?, int)>();
        if (!text.StartsWith('$')) { error = $"JSON path \"{text}\" must start with $ (e.g. \"$.a.b\")"; return null; }
        int i = 1;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                int start = ++i;
                while (i < text.Length && text[i] is not ('.' or '[')) i++;
                if (i == start) { error = $"JSON path \"{text}\" has an empty name at position {start}"; return null; }
                var name = text[start..i];
                steps.Add((Encoding.UTF8.GetBytes(name), name, -1));
            }
            else if (text[i] == '[')
            {
                int close = text.IndexOf(']', i);
                if (close < 0) { error = $"JSON path \"{text}\" has '[' without ']'"; return null; }
                var inner = text[(i + 1)..close].Trim();
                if (inner.Length >= 2 && inner[0] is '\'' or '"' && inner[^1] == inner[0])
                {
                    var name = inner[1..^1];
                    steps.Add((Encoding.UTF8.GetBytes(name), name, -1));
                }
                else if (int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out int idx)) steps.Add((null, null, idx));
                else { error = $"JSON path \"{text}\": '[{inner}]' must be a non-negative index or a quoted name"; return null; }
                i = close + 1;
            }
            else { error = $"JSON path \"{text}\": unexpected '{text[i]}' at position {i}; use .name, ['name'] or [index]"; return null; }
        }
        return new JsonPath([.. steps]);
    }

    /// <summary>Moves the reader onto the value at the path; false when it does not exist.</summary>
    public bool Navigate(ref Utf8JsonReader r)
    {
        if (!r.Read()) return false;
        foreach (var (name, _, index) in _steps)
        {
            if (name is not null)
            {
                if (r.TokenType != JsonTokenType.StartObject) { r.Skip(); return false; }
                bool found = false;
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    bool match = r.ValueTextEquals(name);
                    r.Read();
                    if (match) { found = true; break; }
                    r.Skip();
                }
                if (!found) return false;
            }
            else
            {
                if (r.TokenType != JsonTokenType.StartArray) { r.Skip(); return false; }
                bool found = false;
                for (int k = 0; r.Read() && r.TokenType != JsonTokenType.EndArray; k++)
                {
                    if (k == index) { found = true; break; }
                    r.Skip();
                }
                if (!found) return false;
            }
        }
        return true;
    }

    /// <summary>Row reference: the element at the path (first property of a repeated name wins, as in the kernel).</summary>
    public JsonElement? Find(JsonElement e)
    {
        foreach (var (_, name, index) in _steps)
        {
            if (name is not null)
            {
                if (e.ValueKind != JsonValueKind.Object) return null;
                JsonElement? next = null;
                foreach (var p in e.EnumerateObject())
                    if (p.Name == name) { next = p.Value; break; }
                if (next is null) return null;
                e = next.Value;
            }
            else
            {
                if (e.ValueKind != JsonValueKind.Array || index >= e.GetArrayLength()) return null;
                e = e[index];
            }
        }
        return e;
    }
}
