using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Apache.Arrow.Ipc;
using Sluice.Clients;
using Sluice.Pipeline.Messages;

namespace Sluice.Sources;

/// <summary>
/// Recordings of captured messages (DESIGN.md section 6), by extension: <c>.jsonl</c>, one JSON object per line as
/// <c>kcat -C -J</c> prints it (<c>topic, partition, offset, ts</c> in ms<c>, key, payload, headers</c> as a flat
/// [name, value, ...] array), also accepting <c>value</c> for <c>payload</c>, <c>value_b64</c> (or <c>payload_b64</c>)/<c>key_b64</c> for
/// binary, <c>headers</c> as an object and <c>timestamp</c> for <c>ts</c>; a line with none of these fields is a bare payload
/// (what a json sink writes, so that a sink chain replays stage by stage); and <c>.arrows</c>, an Arrow IPC stream
/// with the <see cref="MessageBatch"/> schema (the fast path).
/// </summary>
internal static class RecordingFile
{
    /// <summary>
    /// Reads a recording in batches of at most <paramref name="batchSize"/> messages (.arrows keeps its own batches);
    /// <paramref name="cancellationToken"/> ends the enumeration at the next batch or line (a stop, not a failure).
    /// </summary>
    /// <exception cref="InvalidDataException">A line or batch that is not a message, naming file and line.</exception>
    public static async IAsyncEnumerable<MessageBatch> ReadAsync(string path, int batchSize = 4096,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (IsArrows(path))
        {
            await using var stream = File.OpenRead(path);
            using var reader = new ArrowStreamReader(stream, ManagedMemoryAllocator.Shared);
            int read = 0;
            // A stop ends the enumeration between batches (a source ends when stopped; it does not fail).
            while (!cancellationToken.IsCancellationRequested)
            {
                // A truncated or foreign file fails inside the Arrow reader in many ways; each is said as what it is.
                MessageBatch? next;
                try
                {
                    next = await reader.ReadNextRecordBatchAsync(CancellationToken.None) is { } batch ? MessageBatch.From(batch) : null;
                }
                catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
                {
                    throw new InvalidDataException($"{path}: not a readable recording (an Arrow IPC stream of messages) after {read} batches: {e.Message}", e);
                }
                if (next is null) yield break;
                read++;
                yield return next;
            }
            yield break;
        }
        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: a recording must be .jsonl or .arrows");
        var builder = new MessageBatch.Builder();
        int line = 0;
        await foreach (var text in File.ReadLinesAsync(path, CancellationToken.None))
        {
            if (cancellationToken.IsCancellationRequested) yield break;
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            InvalidDataException? bad = null;
            try { AppendJsonLine(builder, text, path, line); }
            catch (InvalidDataException e) { bad = e; }
            if (bad is not null)
            {
                // Every line before the bad one is handed on first: the run stops exactly there.
                if (builder.Length > 0) yield return builder.Build();
                throw bad;
            }
            if (builder.Length >= batchSize) yield return builder.Build();
        }
        if (builder.Length > 0) yield return builder.Build();
    }

    private static bool IsArrows(string path) => path.EndsWith(".arrows", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".arrow", StringComparison.OrdinalIgnoreCase);

    internal static void AppendJsonLine(MessageBatch.Builder builder, string text, string path, int line)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text); }
        catch (JsonException e)
        {
            var why = e.Message.Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
            throw new InvalidDataException($"{path}:{line}: not a JSON object: {why} (at byte {e.BytePositionInLine + 1} of the line)");
        }
        using (doc)
        {
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}:{line}: each line must be a JSON object (kcat -J format)");
            try
            {
                string topic = o.TryGetProperty("topic", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : Path.GetFileNameWithoutExtension(path);
                int partition = o.TryGetProperty("partition", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0;
                long offset = o.TryGetProperty("offset", out var off) && off.ValueKind == JsonValueKind.Number ? off.GetInt64() : line - 1;
                long ms = (o.TryGetProperty("ts", out var ts) || o.TryGetProperty("timestamp", out ts)) && ts.ValueKind == JsonValueKind.Number ? ts.GetInt64() : 0;
                var key = Bytes(o, "key", "key_b64");
                // A line with none of the envelope's fields is a bare payload, as a json sink writes it: sink output
                // replays as the next stage's input (the seed's sink chain).
                bool bare = !EnvelopeFields.Any(n => o.TryGetProperty(n, out _));
                var value = bare ? Encoding.UTF8.GetBytes(text)
                    : Bytes(o, "payload", "value_b64") ?? Bytes(o, "value", "value_b64") ?? Bytes(o, "payload", "payload_b64");
                builder.Append(topic, partition, offset, checked(ms * 1000), key, value, Headers(o));
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
            {
                throw new InvalidDataException($"{path}:{line}: {e.Message}");
            }
        }
    }

    private static readonly string[] EnvelopeFields = ["topic", "partition", "offset", "ts", "timestamp", "key", "key_b64", "payload", "value", "value_b64", "payload_b64", "headers"];

    private static byte[]? Bytes(JsonElement o, string textName, string base64Name)
    {
        if (o.TryGetProperty(base64Name, out var b64) && b64.ValueKind == JsonValueKind.String)
        {
            try { return Convert.FromBase64String(b64.GetString()!); }
            catch (FormatException) { throw new FormatException($"{base64Name} is not base64: '{Shorten(b64.GetString()!)}'"); }
        }
        if (!o.TryGetProperty(textName, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        // A payload written as a JSON object rather than a string is taken as its JSON text.
        return v.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(v.GetString()!) : Encoding.UTF8.GetBytes(v.GetRawText());
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static List<KeyValuePair<string, byte[]>>? Headers(JsonElement o)
    {
        if (!o.TryGetProperty("headers", out var h) || h.ValueKind == JsonValueKind.Null) return null;
        var result = new List<KeyValuePair<string, byte[]>>();
        static byte[] Value(JsonElement v) => v.ValueKind == JsonValueKind.Null ? [] : Encoding.UTF8.GetBytes(v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText());
        if (h.ValueKind == JsonValueKind.Object)
            foreach (var p in h.EnumerateObject()) result.Add(new(p.Name, Value(p.Value)));
        else if (h.ValueKind == JsonValueKind.Array)
        {
            var items = h.EnumerateArray().ToList();
            if (items.Count % 2 != 0) throw new FormatException("headers must be a flat [name, value, name, value, ...] array (kcat -J) or an object");
            for (int i = 0; i < items.Count; i += 2) result.Add(new(items[i].GetString() ?? "", Value(items[i + 1])));
        }
        else throw new FormatException("headers must be an array or an object");
        return result;
    }

    /// <summary>Whether <paramref name="path"/> names a recording format (<c>.jsonl</c>, <c>.arrows</c>).</summary>
    public static bool IsRecording(string path) => IsArrows(path) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Writes batches as a recording: <c>.arrows</c> as an Arrow IPC stream, <c>.jsonl</c> in kcat -J form. With
    /// <paramref name="durable"/>, each batch is on disk (fsynced) before the next is asked for, so that a source which
    /// acknowledges what it read can do so then.
    /// </summary>
    public static async Task WriteAsync(string path, IAsyncEnumerable<MessageBatch> batches, bool durable = false, CancellationToken cancellationToken = default)
    {
        if (!IsRecording(path)) throw new InvalidDataException($"{path}: a recording must be .jsonl or .arrows");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        await using var stream = File.Create(path);
        if (durable && dir is not null) DurableFiles.SyncFolder(dir);
        if (IsArrows(path))
        {
            using var writer = new ArrowStreamWriter(stream, MessageBatch.Schema, leaveOpen: true);
            await foreach (var b in batches.WithCancellation(cancellationToken))
            {
                await writer.WriteRecordBatchAsync(b.Batch, cancellationToken);
                if (durable) stream.Flush(flushToDisk: true);
            }
            await writer.WriteEndAsync(cancellationToken);
        }
        else
        {
            await using var text = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
            await foreach (var b in batches.WithCancellation(cancellationToken))
            {
                for (int i = 0; i < b.Length; i++)
                    await text.WriteLineAsync(MessageJsonl.Line(b, i));
                if (!durable) continue;
                await text.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
        }
        if (durable) stream.Flush(flushToDisk: true);
    }
}
