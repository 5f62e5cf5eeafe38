using Apache.Arrow;
using Apache.Arrow.Types;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Pipeline.Messages;

/// <summary>
/// A batch of raw messages as every source delivers them and as <c>.arrows</c> recordings store them (DESIGN.md
/// section 6): columns topic, partition, offset, timestamp (UTC, microseconds), key, value, headers
/// (list of {name, value}). Immutable once built.
/// </summary>
public sealed class MessageBatch
{
    private static readonly DataType HeaderType = DataType.StructOf("Header", [new StructField("name", DataType.String), new StructField("value", DataType.Bytes)]);
    private static readonly DataType HeadersType = DataType.ListOf(HeaderType);

    /// <summary>The Arrow schema of a message batch and of a <c>.arrows</c> recording.</summary>
    public static Schema Schema { get; } = new Schema.Builder()
        .Field(new Field("topic", StringType.Default, false))
        .Field(new Field("partition", Int32Type.Default, false))
        .Field(new Field("offset", Int64Type.Default, false))
        .Field(new Field("timestamp", DataType.ArrowTimestamp, false))
        .Field(new Field("key", BinaryType.Default, true))
        .Field(new Field("value", BinaryType.Default, true))
        .Field(HeadersType.ToArrowField("headers"))
        .Build();

    private MessageBatch(RecordBatch batch)
    {
        Batch = batch;
        Topic = (StringArray)batch.Column(0);
        Partition = (Int32Array)batch.Column(1);
        Offset = (Int64Array)batch.Column(2);
        Timestamp = (TimestampArray)batch.Column(3);
        Key = (BinaryArray)batch.Column(4);
        Value = (BinaryArray)batch.Column(5);
        Headers = (ListArray)batch.Column(6);
    }

    /// <summary>The batch as an Arrow record batch.</summary>
    public RecordBatch Batch { get; }
    /// <summary>Number of messages.</summary>
    public int Length => Batch.Length;
    /// <summary>Topic (stream) of each message.</summary>
    public StringArray Topic { get; }
    /// <summary>Partition (shard) of each message.</summary>
    public Int32Array Partition { get; }
    /// <summary>Position of each message in its partition.</summary>
    public Int64Array Offset { get; }
    /// <summary>Message timestamp, microseconds UTC.</summary>
    public TimestampArray Timestamp { get; }
    /// <summary>Message key (null when absent).</summary>
    public BinaryArray Key { get; }
    /// <summary>Message payload (null for a tombstone).</summary>
    public BinaryArray Value { get; }
    /// <summary>Headers: a list of {name, value} per message.</summary>
    public ListArray Headers { get; }

    /// <summary>The headers of message <paramref name="i"/>, in order.</summary>
    public IEnumerable<KeyValuePair<string, byte[]>> HeadersOf(int i)
    {
        var headers = (StructArray)Headers.Values;
        var names = (StringArray)headers.Fields[0];
        var values = (BinaryArray)headers.Fields[1];
        for (int k = Headers.ValueOffsets[i]; k < Headers.ValueOffsets[i + 1]; k++)
            yield return new(names.GetString(k), values.GetBytes(k).ToArray());
    }

    /// <summary>"topic/partition/offset" of message <paramref name="i"/>, as dead letters and errors name it.</summary>
    public string Position(int i) => $"{Topic.GetString(i)}/{Partition.GetValue(i)}/{Offset.GetValue(i)}";

    /// <summary>The header by which a source without stable offsets (Pub/Sub) names a message the same way on every delivery.</summary>
    public const string MessageIdHeader = "sluice-message-id";

    /// <summary>
    /// What makes message <paramref name="i"/> the same message when it is delivered again: its <see cref="MessageIdHeader"/>
    /// when the source sets one (<c>topic/id</c>), else its position. Deduplication claims keys with it, so that a
    /// redelivery is processed again rather than dropped as a duplicate.
    /// </summary>
    public string Identity(int i)
    {
        if (Headers.ValueOffsets[i] != Headers.ValueOffsets[i + 1])
            foreach (var (name, value) in HeadersOf(i))
                if (name == MessageIdHeader) return $"{Topic.GetString(i)}/{System.Text.Encoding.UTF8.GetString(value)}";
        return Position(i);
    }

    /// <summary>Wraps a record batch, checking it has the message schema (names and types, in order).</summary>
    public static MessageBatch From(RecordBatch batch)
    {
        var expected = Schema.FieldsList;
        var actual = batch.Schema.FieldsList;
        if (actual.Count != expected.Count)
            throw new InvalidDataException($"a message batch has {expected.Count} columns ({string.Join(", ", expected.Select(f => f.Name))}) but this one has {actual.Count} ({string.Join(", ", actual.Select(f => f.Name))})");
        for (int i = 0; i < expected.Count; i++)
            if (actual[i].Name != expected[i].Name || actual[i].DataType.TypeId != expected[i].DataType.TypeId)
                throw new InvalidDataException($"column {i} must be '{expected[i].Name}' of type {expected[i].DataType.Name} but is '{actual[i].Name}' of type {actual[i].DataType.Name}");
        return new MessageBatch(batch);
    }

    /// <summary>Appends messages one by one (sources, recordings, tests) and builds an immutable batch.</summary>
    /// <remarks>Sized for <c>messages</c> messages of <c>valueBytes</c> payload bytes in all; it grows past that.</remarks>
    public sealed class Builder(int messages = 1024, int valueBytes = 16 * 1024)
    {
        private readonly BinaryBuilder _topic = (BinaryBuilder)ColumnBuilder.Create(DataType.String, messages);
        private readonly Int32Array.Builder _partition = new Int32Array.Builder().Reserve(messages);
        private readonly PrimitiveBuilder<long> _offset = (PrimitiveBuilder<long>)ColumnBuilder.Create(DataType.Int64, messages);
        private readonly PrimitiveBuilder<long> _timestamp = (PrimitiveBuilder<long>)ColumnBuilder.Create(DataType.Timestamp, messages);
        private readonly BinaryBuilder _key = (BinaryBuilder)ColumnBuilder.Create(DataType.Bytes.WithNullable(true), messages);
        private readonly BinaryBuilder _value = new(DataType.Bytes.WithNullable(true), messages, valueBytes);
        // Sources append one topic over and over: its UTF-8 bytes are encoded once.
        private string? _lastTopic;
        private byte[] _lastTopicBytes = [];
        private readonly ListBuilder _headers = (ListBuilder)ColumnBuilder.Create(HeadersType, 1024);

        /// <summary>Messages appended so far.</summary>
        public int Length => _offset.Length;

        /// <summary>Payload bytes appended so far.</summary>
        public int ValueBytes => _value.DataLength;

        /// <summary>Appends one message; <paramref name="timestampMicros"/> is UTC microseconds since the epoch.</summary>
        public void Append(string topic, int partition, long offset, long timestampMicros, byte[]? key, byte[]? value,
            IEnumerable<KeyValuePair<string, byte[]>>? headers = null) =>
            Append(topic, partition, offset, timestampMicros, key, key is null, value, value is null, headers);

        /// <summary>Appends one message whose key and value are copied from spans (a null one is flagged, its span ignored).</summary>
        public void Append(string topic, int partition, long offset, long timestampMicros, ReadOnlySpan<byte> key, bool keyIsNull,
            ReadOnlySpan<byte> value, bool valueIsNull, IEnumerable<KeyValuePair<string, byte[]>>? headers = null)
        {
            if (!ReferenceEquals(topic, _lastTopic) && topic != _lastTopic)
            {
                _lastTopic = topic;
                _lastTopicBytes = System.Text.Encoding.UTF8.GetBytes(topic);
            }
            _topic.Append(_lastTopicBytes);
            _partition.Append(partition);
            _offset.Append(offset);
            _timestamp.Append(timestampMicros);
            if (keyIsNull) _key.AppendNull();
            else _key.Append(key);
            if (valueIsNull) _value.AppendNull();
            else _value.Append(value);
            var header = (StructBuilder)_headers.Child;
            if (headers is not null)
                foreach (var (name, v) in headers)
                {
                    header.Children[0].AppendRow(name);
                    header.Children[1].AppendRow(v);
                    header.EndStruct();
                }
            _headers.EndList();
        }

        /// <summary>Appends message <paramref name="i"/> of another batch, copying its columns.</summary>
        public void AppendFrom(MessageBatch batch, int i)
        {
            _topic.AppendFrom(batch.Topic, i);
            _partition.Append(batch.Partition.Values[i]);
            _offset.AppendFrom(batch.Offset, i);
            _timestamp.AppendFrom(batch.Timestamp, i);
            _key.AppendFrom(batch.Key, i);
            _value.AppendFrom(batch.Value, i);
            _headers.AppendFrom(batch.Headers, i);
        }

        /// <summary>The batch of everything appended; the builder starts empty again.</summary>
        public MessageBatch Build()
        {
            int n = Length;
            var columns = new IArrowArray[] { _topic.Build(), _partition.Build(ManagedMemoryAllocator.Shared), _offset.Build(), _timestamp.Build(), _key.Build(), _value.Build(), _headers.Build() };
            _partition.Clear();
            return new MessageBatch(new RecordBatch(Schema, columns, n));
        }
    }
}
