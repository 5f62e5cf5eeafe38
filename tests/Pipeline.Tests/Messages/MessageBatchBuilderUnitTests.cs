using FluentAssertions;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Tests.Messages;

public class MessageBatchBuilderUnitTests
{
    [Fact]
    public void Messages_appended_from_spans_keep_their_bytes_and_null_flags_as_the_buffers_grow_past_their_size()
    {
        // Sized for 2 messages of 8 payload bytes in all: 300 messages of up to 299 bytes make every buffer grow many times.
        var builder = new MessageBatch.Builder(messages: 2, valueBytes: 8);
        // Reused for every message, as a Kafka source reuses its deserializers' buffers.
        var key = new byte[3];
        var scratch = new byte[400];
        for (int i = 0; i < 300; i++)
        {
            for (int j = 0; j < i; j++) scratch[j] = (byte)(i + j);
            for (int j = 0; j < 3; j++) key[j] = (byte)(i + j);
            bool nullValue = i % 7 == 3, nullKey = i % 2 == 0;
            builder.Append("users", i % 4, 1000 + i, i * 1_000L, key, nullKey, scratch.AsSpan(0, i), nullValue,
                i % 5 == 0 ? [new("kind", [(byte)i])] : null);
        }
        builder.ValueBytes.Should().Be(Enumerable.Range(0, 300).Where(i => i % 7 != 3).Sum());

        var batch = builder.Build();

        batch.Length.Should().Be(300);
        for (int i = 0; i < 300; i++)
        {
            batch.Topic.GetString(i).Should().Be("users");
            batch.Partition.GetValue(i).Should().Be(i % 4);
            batch.Offset.GetValue(i).Should().Be(1000 + i);
            batch.Timestamp.Values[i].Should().Be(i * 1_000L);
            batch.Key.IsNull(i).Should().Be(i % 2 == 0, $"message {i}'s key");
            if (i % 2 != 0) batch.Key.GetBytes(i).ToArray().Should().Equal((byte)i, (byte)(i + 1), (byte)(i + 2));
            batch.Value.IsNull(i).Should().Be(i % 7 == 3, $"message {i}'s value");
            if (i % 7 != 3) batch.Value.GetBytes(i).ToArray().Should().Equal(Enumerable.Range(0, i).Select(j => (byte)(i + j)), $"message {i}'s value");
            batch.HeadersOf(i).Select(h => (h.Key, h.Value[0])).Should().Equal(i % 5 == 0 ? [("kind", (byte)i)] : []);
        }
    }
}
