using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Parsing;

/// <summary>
/// Schema-driven JSON parse straight into Arrow builders with <see cref="Utf8JsonReader"/>: no intermediate objects.
/// Unknown fields are skipped; a missing or null field is null when the field is nullable. A message that does not fit
/// is rolled back out of the builders and reported with its field path; the rest of the batch goes on.
/// Timestamps are ISO-8601 strings; dates <c>yyyy-MM-dd</c>; bytes base64; enums a member name or number.
/// </summary>
internal sealed class JsonParseKernel : ParseKernel
{
    private readonly JsonSchemaNode _root;

    private readonly bool _fastPath;

    public JsonParseKernel(DataType type, bool fastPath = true)
    {
        _fastPath = fastPath;
        MessageType = type;
        _root = new JsonSchemaNode(type);
    }

    public override DataType MessageType { get; }

    /// <summary>Carries an error out of the recursion; the path is built only on the way out of a failure.</summary>
    private sealed class Failure(string reason)
    {
        public string Reason { get; } = reason;
        public List<string> Path { get; } = [];
    }

    public override ParseResult Parse(BinaryArray messages)
    {
        int n = messages.Length;
        var root = ColumnBuilder.Create(MessageType, n);
        List<ParseError>? errors = null;
        List<int>? index = null;
        for (int i = 0; i < n; i++)
        {
            int mark = root.Length;
            var failure = messages.IsNull(i) ? new Failure("message has no value (a tombstone)") : ParseOne(messages.GetBytes(i), root);
            if (failure is null)
            {
                index?.Add(i);
                continue;
            }
            root.Truncate(mark);
            if (index is null)
            {
                index = new List<int>(n);
                for (int k = 0; k < i; k++) index.Add(k);
            }
            failure.Path.Reverse();
            (errors ??= []).Add(new ParseError(i, string.Join("", failure.Path).TrimStart('.'), failure.Reason));
        }
        return new ParseResult(root.Build(), index?.ToArray(), (IReadOnlyList<ParseError>?)errors ?? []);
    }

    private Failure? ParseOne(ReadOnlySpan<byte> json, ColumnBuilder root)
    {
        if (_fastPath)
        {
            int mark = root.Length;
            if (JsonFastScanner.TryParse(json, _root, root)) return null;
            root.Truncate(mark);
        }
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read()) return new Failure("message is empty; expected a JSON value");
            var f = Read(ref r, _root, root);
            if (f is not null) return f;
            if (r.Read()) return new Failure($"unexpected content after the JSON value at byte {r.TokenStartIndex}");
            return null;
        }
        catch (JsonException e)
        {
            return new Failure($"malformed JSON: {e.Message}");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            return new Failure($"malformed JSON: {e.Message}");
        }
    }

    private static Failure? Read(ref Utf8JsonReader r, JsonSchemaNode node, ColumnBuilder b)
    {
        if (r.TokenType == JsonTokenType.Null)
        {
            if (!node.Nullable) return new Failure($"null where {node.Type} is required (declare the field {node.Type}? to allow it)");
            b.AppendNull();
            return null;
        }
        switch (node.Kind)
        {
            case TypeKind.Struct: return ReadStruct(ref r, node, Unsafe.As<StructBuilder>(b));
            case TypeKind.List:
            {
                if (r.TokenType != JsonTokenType.StartArray) return Expected(ref r, node);
                var lb = Unsafe.As<ListBuilder>(b);
                int k = 0;
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    var f = Read(ref r, node.Children[0], lb.Child);
                    if (f is not null) { f.Path.Add($"[{k}]"); return f; }
                    k++;
                }
                lb.EndList();
                return null;
            }
            case TypeKind.Int64:
                if (r.TokenType != JsonTokenType.Number) return Expected(ref r, node);
                if (!r.TryGetInt64(out long l)) return new Failure($"number {Encoding.UTF8.GetString(r.ValueSpan)} is not an int64 (not whole, or out of range)");
                Unsafe.As<PrimitiveBuilder<long>>(b).Append(l);
                return null;
            case TypeKind.Float64:
                if (r.TokenType != JsonTokenType.Number) return Expected(ref r, node);
                if (!r.TryGetDouble(out double d)) return new Failure($"number {Encoding.UTF8.GetString(r.ValueSpan)} is out of float64 range");
                Unsafe.As<PrimitiveBuilder<double>>(b).Append(d);
                return null;
            case TypeKind.Bool:
                if (r.TokenType is not (JsonTokenType.True or JsonTokenType.False)) return Expected(ref r, node);
                Unsafe.As<BoolBuilder>(b).Append(r.TokenType == JsonTokenType.True);
                return null;
            case TypeKind.String:
            {
                if (r.TokenType != JsonTokenType.String) return Expected(ref r, node);
                var sb = Unsafe.As<BinaryBuilder>(b);
                if (!r.ValueIsEscaped && !r.HasValueSequence)
                {
                    var span = r.ValueSpan;
                    if (!Utf8.IsValid(span)) return new Failure("string is not valid UTF-8");
                    sb.Append(span);
                }
                else sb.Commit(r.CopyString(sb.Reserve(r.ValueSpan.Length)));
                return null;
            }
            case TypeKind.Bytes:
            {
                if (r.TokenType != JsonTokenType.String) return Expected(ref r, node);
                var bb = Unsafe.As<BinaryBuilder>(b);
                var src = r.ValueSpan;
                if (r.ValueIsEscaped) src = r.GetBytesFromBase64();
                var dst = bb.Reserve(Base64.GetMaxDecodedFromUtf8Length(src.Length));
                if (Base64.DecodeFromUtf8(src, dst, out _, out int written) != System.Buffers.OperationStatus.Done)
                    return new Failure("bytes must be base64 text");
                bb.Commit(written);
                return null;
            }
            case TypeKind.Timestamp:
                if (r.TokenType != JsonTokenType.String)
                    return new Failure($"expected an ISO-8601 timestamp string but got {Describe(ref r)} (for epoch numbers declare the field int64 and map it with F.from_unix_seconds)");
                if (!r.TryGetDateTimeOffset(out var dto)) return new Failure($"\"{r.GetString()}\" is not an ISO-8601 timestamp");
                Unsafe.As<PrimitiveBuilder<long>>(b).Append((dto.UtcTicks - DateTime.UnixEpoch.Ticks) / 10);
                return null;
            case TypeKind.Date:
                if (r.TokenType != JsonTokenType.String || !Functions.TextFormat.TryParseDate(r.ValueSpan, out int days))
                    return new Failure($"expected a date string yyyy-MM-dd but got {Describe(ref r)}");
                Unsafe.As<PrimitiveBuilder<int>>(b).Append(days);
                return null;
            case TypeKind.Enum:
            {
                var eb = Unsafe.As<PrimitiveBuilder<long>>(b);
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long num) && node.Type.Members.Any(m => m.Number == num))
                {
                    eb.Append(num);
                    return null;
                }
                if (r.TokenType == JsonTokenType.String)
                    for (int k = 0; k < node.Names.Length; k++)
                        if (r.ValueTextEquals(node.Names[k])) { eb.Append(node.Type.Members[k].Number); return null; }
                return new Failure($"{Describe(ref r)} is not a member of enum {node.Type.Name} ({string.Join(", ", node.Type.Members.Select(m => m.Name))})");
            }
            default:
                return new Failure($"type {node.Type} cannot be read from JSON");
        }
    }

    private static Failure? ReadStruct(ref Utf8JsonReader r, JsonSchemaNode node, StructBuilder b)
    {
        if (r.TokenType != JsonTokenType.StartObject) return Expected(ref r, node);
        int count = node.Names.Length;
        // Which fields arrived (a bit per field up to 64, else an array); missing ones are null or an error at the end.
        ulong seenBits = 0;
        bool[]? seenWide = count > 64 ? new bool[count] : null;
        int expected = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            int idx = -1;
            // Messages usually list fields in schema order: try the next one first.
            if (expected < count && NameEquals(ref r, node.Names[expected])) idx = expected;
            else
                for (int k = 0; k < count; k++)
                    if (NameEquals(ref r, node.Names[k])) { idx = k; break; }
            r.Read();
            if (idx < 0) { r.Skip(); continue; }
            bool seen = seenWide is null ? (seenBits & (1UL << idx)) != 0 : seenWide[idx];
            if (seen) return WithField(new Failure("field appears twice in one object"), node, idx);
            var f = Read(ref r, node.Children[idx], b.Children[idx]);
            if (f is not null) return WithField(f, node, idx);
            if (seenWide is null) seenBits |= 1UL << idx;
            else seenWide[idx] = true;
            expected = idx + 1;
        }
        if (seenWide is null && seenBits == (count == 64 ? ulong.MaxValue : (1UL << count) - 1))
        {
            b.EndStruct();
            return null;
        }
        for (int k = 0; k < count; k++)
        {
            if (seenWide is null ? (seenBits & (1UL << k)) != 0 : seenWide[k]) continue;
            if (!node.Children[k].Nullable)
                return WithField(new Failure($"required field is missing (declare it {node.Children[k].Type}? if it may be absent)"), node, k);
            b.Children[k].AppendNull();
        }
        b.EndStruct();
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NameEquals(ref Utf8JsonReader r, byte[] name) =>
        r.ValueIsEscaped || r.HasValueSequence ? r.ValueTextEquals(name) : r.ValueSpan.SequenceEqual(name);

    private static Failure WithField(Failure f, JsonSchemaNode node, int idx)
    {
        f.Path.Add("." + node.Type.Fields[idx].Name);
        return f;
    }

    private static Failure Expected(ref Utf8JsonReader r, JsonSchemaNode node) =>
        new($"expected {Describe(node.Type)} but got {Describe(ref r)}");

    private static string Describe(DataType t) => t.Kind switch
    {
        TypeKind.Struct => $"an object ({t.Name})",
        TypeKind.List => "an array",
        TypeKind.String => "a string",
        TypeKind.Bool => "true or false",
        TypeKind.Int64 => "an int64",
        TypeKind.Enum => $"an enum {t}",
        _ => $"a {t}",
    };

    private static string Describe(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "string " + JsonSerializer.Serialize(Truncate(r.GetString() ?? "")),
        JsonTokenType.Number => "number " + Encoding.UTF8.GetString(r.ValueSpan),
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => r.TokenType.ToString(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

/// <summary>The schema, compiled once: field names as UTF-8, enum members, children.</summary>
internal sealed class JsonSchemaNode
{
    public JsonSchemaNode(DataType type)
    {
        Type = type;
        Kind = type.Kind;
        if (type.Kind == TypeKind.Struct)
        {
            Names = type.Fields.Select(f => Encoding.UTF8.GetBytes(f.Name)).ToArray();
            PlainNames = type.Fields.All(f => f.Name.All(c => c >= 0x20 && c != '"' && c != '\\'));
            Children = type.Fields.Select(f => new JsonSchemaNode(f.Type)).ToArray();
        }
        else if (type.Kind == TypeKind.List) Children = [new JsonSchemaNode(type.Element!)];
        else if (type.Kind == TypeKind.Enum) Names = type.Members.Select(m => Encoding.UTF8.GetBytes(m.Name)).ToArray();
    }

    public DataType Type { get; }
    public TypeKind Kind { get; }
    public bool Nullable => Type.IsNullable;
    public byte[][] Names { get; } = [];
    /// <summary>No field name needs escaping in JSON, so keys can be matched byte for byte.</summary>
    public bool PlainNames { get; }
    public JsonSchemaNode[] Children { get; } = [];
}
