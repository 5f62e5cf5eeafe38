using System.Diagnostics;
using FluentAssertions;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Tests.Graph;

public class MessageBatcherUnitTests
{
    private static MessageBatch Fragment(long firstOffset, int count)
    {
        var b = new MessageBatch.Builder();
        for (int i = 0; i < count; i++) b.Append("t", 0, firstOffset + i, 0, null, [(byte)i], [new("h", [2])]);
        return b.Build();
    }

    [Fact]
    public void Small_fragments_regroup_into_batches_of_the_size_in_order()
    {
        var batcher = new MessageBatcher(8, TimeSpan.FromHours(1));
        long now = Stopwatch.GetTimestamp();
        var ready = new List<MessageBatch>();
        ready.AddRange(batcher.Add(Fragment(0, 3), now));
        ready.AddRange(batcher.Add(Fragment(3, 3), now));
        ready.AddRange(batcher.Add(Fragment(6, 3), now));
        ready.AddRange(batcher.Add(Fragment(9, 1), now));
        ready.Select(b => b.Length).Should().Equal(8);
        batcher.Waiting.Should().Be(2);
        var last = batcher.Flush()!;
        ready.Add(last);
        ready.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => b.Offset.Values[i])).Should().Equal(Enumerable.Range(0, 10).Select(i => (long)i));
        last.Headers.ValueOffsets[last.Length].Should().Be(2, "headers travel with their messages");
        batcher.Flush().Should().BeNull();
    }

    [Fact]
    public void A_fragment_of_half_the_size_or_more_passes_through_whole_after_what_was_waiting()
    {
        var batcher = new MessageBatcher(8, TimeSpan.FromHours(1));
        long now = Stopwatch.GetTimestamp();
        var half = Fragment(0, 4);
        batcher.Add(half, now).Should().ContainSingle().Which.Should().BeSameAs(half);
        batcher.Add(Fragment(4, 1), now).Should().BeEmpty();
        var large = Fragment(5, 11);
        var ready = batcher.Add(large, now);
        ready.Select(b => b.Length).Should().Equal(1, 11);
        ready[1].Should().BeSameAs(large);
        ready[0].Offset.Values[0].Should().Be(4, "the waiting message goes first");
        batcher.Waiting.Should().Be(0);
    }

    [Fact]
    public void A_full_fragment_passes_through_and_a_lingering_one_is_released()
    {
        var batcher = new MessageBatcher(4, TimeSpan.FromMilliseconds(10));
        long start = Stopwatch.GetTimestamp();
        var whole = Fragment(0, 4);
        batcher.Add(whole, start).Should().ContainSingle().Which.Should().BeSameAs(whole);
        batcher.Add(Fragment(4, 1), start).Should().BeEmpty();
        batcher.Due(start).Should().BeNull();
        batcher.Due(start + Stopwatch.Frequency).Should().NotBeNull().And.Subject.As<MessageBatch>().Length.Should().Be(1);
    }
}
