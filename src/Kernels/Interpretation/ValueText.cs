using System.Globalization;
using System.Text;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Interpretation;

/// <summary>
/// Canonical text of a row-form value, used by golden files and diagnostics: null, 42, 1.5, nan, true,
/// "text" (JSON-quoted), b"\x00ab", 2023-11-14T22:13:20Z, 2023-11-14, [1, null], {a: 1, b: "x"}.
/// </summary>
internal static class ValueText
{
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Formats <paramref name="value"/> of type <paramref name="type"/>.</summary>
    public static string Format(object? value, DataType type)
    {
        if (value is null) return "null";
        switch (type.Kind)
        {
            case TypeKind.Int64 or TypeKind.Enum: return ((long)value).ToString(CultureInfo.InvariantCulture);
            case TypeKind.Float64: return TextFormat.Float((double)value);
            case TypeKind.Bool: return (bool)value ? "true" : "false";
            case TypeKind.String: return System.Text.Json.JsonSerializer.Serialize((string)value, Relaxed);
            case TypeKind.Bytes:
            {
                var sb = new StringBuilder("b\"");
                foreach (var b in (byte[])value)
                    sb.Append(b is >= 0x20 and < 0x7F and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
                return sb.Append('"').ToString();
            }
            case TypeKind.Timestamp: return TextFormat.Timestamp((long)value) ?? $"timestamp({(long)value}us)";
            case TypeKind.Date: return TextFormat.Date((int)value);
            case TypeKind.List: return "[" + string.Join(", ", ((object?[])value).Select(v => Format(v, type.Element!))) + "]";
            case TypeKind.Struct:
                var fields = (object?[])value;
                return "{" + string.Join(", ", type.Fields.Select((f, i) => $"{f.Name}: {Format(fields[i], f.Type)}")) + "}";
            default: return value.ToString() ?? "";
        }
    }
}
