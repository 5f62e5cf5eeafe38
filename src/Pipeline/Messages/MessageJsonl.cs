using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Apache.Arrow;

namespace Sluice.Pipeline.Messages;

/// <summary>One message as a <c>kcat -C -J</c> line (payload as text when it is UTF-8, else <c>value_b64</c>).</summary>
internal static class MessageJsonl
{
    // kcat prints quotes and non-ASCII as they are; only what JSON requires is escaped.
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Message <paramref name="i"/> of <paramref name="b"/>, with <paramref name="extraHeaders"/> appended.</summary>
    public static string Line(MessageBatch b, int i, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteString("topic", b.Topic.GetString(i));
            w.WriteNumber("partition", b.Partition.GetValue(i)!.Value);
            w.WriteNumber("offset", b.Offset.GetValue(i)!.Value);
            w.WriteNumber("ts", b.Timestamp.GetValue(i)!.Value / 1000);
            WriteBytes(w, "key", "key_b64", b.Key, i);
            WriteBytes(w, "payload", "value_b64", b.Value, i);
            w.WriteStartArray("headers");
            foreach (var (name, value) in b.HeadersOf(i))
            {
                w.WriteStringValue(name);
                w.WriteStringValue(Encoding.UTF8.GetString(value));
            }
            foreach (var (name, value) in extraHeaders ?? [])
            {
                w.WriteStringValue(name);
                w.WriteStringValue(value);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteBytes(Utf8JsonWriter w, string textName, string base64Name, BinaryArray column, int i)
    {
        if (column.IsNull(i)) { w.WriteNull(textName); return; }
        var bytes = column.GetBytes(i);
        if (Utf8.IsValid(bytes)) w.WriteString(textName, bytes);
        else w.WriteBase64String(base64Name, bytes);
    }
}
