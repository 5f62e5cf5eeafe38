using System.Text.Json;
using Apache.Arrow;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;
using System.Runtime.CompilerServices;

namespace Sluice.Pipeline.Contracts;

/// <summary>
/// The JSON form of feature values, used by the online store, <c>sluice get</c> and JSON sinks: numbers, strings and
/// bools as JSON; timestamps ISO-8601 UTC; dates <c>yyyy-MM-dd</c>; bytes base64; NaN and infinities as strings.
/// </summary>
public static class FeatureJson
{
    /// <summary>Writer options for feature JSON: only what JSON requires is escaped, so text reads as written.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes row <paramref name="i"/> of <paramref name="column"/> (of <paramref name="type"/>) as one JSON value.</summary>
    // Runs per message: optimized from its first call, rather than after tiering up (a short run spent its first seconds
    // in unoptimized code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Write(Utf8JsonWriter w, IArrowArray column, int i, DataType type)
    {
        // Scalars straight from their columns (no boxed row value: the Redis store writes every value of every row).
        if (column.IsNull(i))
        {
            w.WriteNullValue();
            return;
        }
        switch (column)
        {
            case StringArray s when type.Kind == TypeKind.String:
                w.WriteStringValue(s.GetBytes(i));
                return;
            case Int64Array l when type.Kind is TypeKind.Int64 or TypeKind.Enum:
                w.WriteNumberValue(l.Values[i]);
                return;
            case DoubleArray d when type.Kind == TypeKind.Float64 && double.IsFinite(d.Values[i]):
                w.WriteNumberValue(d.Values[i]);
                return;
            case BooleanArray b when type.Kind == TypeKind.Bool:
                w.WriteBooleanValue(b.GetValue(i)!.Value);
                return;
            case TimestampArray t when type.Kind == TypeKind.Timestamp:
                Span<byte> iso = stackalloc byte[40]; // "yyyy-MM-ddTHH:mm:ss.ffffffZ" is 27
                int n = TextFormat.WriteTimestamp(t.Values[i], iso);
                if (n < 0) w.WriteNullValue();
                else w.WriteStringValue(iso[..n]);
                return;
        }
        WriteRow(w, ArrowValues.GetRow(column, i, type), type);
    }

    /// <summary>Writes a row-form value as JSON.</summary>
    public static void WriteRow(Utf8JsonWriter w, object? value, DataType type)
    {
        if (value is null) { w.WriteNullValue(); return; }
        switch (type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum: w.WriteNumberValue((long)value); break;
            case TypeKind.Float64:
                var d = (double)value;
                if (double.IsFinite(d)) w.WriteNumberValue(d);
                else w.WriteStringValue(TextFormat.Float(d));
                break;
            case TypeKind.Bool: w.WriteBooleanValue((bool)value); break;
            case TypeKind.String: w.WriteStringValue((string)value); break;
            case TypeKind.Bytes: w.WriteBase64StringValue((byte[])value); break;
            case TypeKind.Timestamp: w.WriteStringValue(TextFormat.Timestamp((long)value)); break;
            case TypeKind.Date: w.WriteStringValue(TextFormat.Date((int)value)); break;
            case TypeKind.List:
                w.WriteStartArray();
                foreach (var e in (object?[])value) WriteRow(w, e, type.Element!);
                w.WriteEndArray();
                break;
            case TypeKind.Struct:
                w.WriteStartObject();
                var fields = (object?[])value;
                for (int f = 0; f < fields.Length; f++)
                {
                    w.WritePropertyName(type.Fields[f].Name);
                    WriteRow(w, fields[f], type.Fields[f].Type);
                }
                w.WriteEndObject();
                break;
            default: w.WriteNullValue(); break;
        }
    }

    /// <summary>One value as JSON text.</summary>
    public static string ToJson(IArrowArray column, int i, DataType type)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) Write(w, column, i, type);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
