using FluentAssertions;
using Sluice.Pipeline.Graph;
using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Tests.Graph;

public class AckJoinerUnitTests
{
    private static MessageBatch Batch(int partition, long firstOffset, int count)
    {
        var b = new MessageBatch.Builder();
        for (int i = 0; i < count; i++) b.Append("t", partition, firstOffset + i, 0, null, [1]);
        return b.Build();
    }

    [Fact]
    public void Offsets_advance_only_over_the_contiguous_prefix_of_fully_acknowledged_batches()
    {
        var joiner = new AckJoiner();
        var committed = new List<(string, int, long)>();
        joiner.Committed += (t, p, o) => committed.Add((t, p, o));
        joiner.Register(0, Batch(0, 0, 10), parts: 2);
        joiner.Register(1, Batch(0, 10, 10), parts: 1);
        joiner.Register(2, Batch(1, 0, 5), parts: 1);

        joiner.Ack(1); // batch 1 is done, but batch 0 is not: nothing may commit
        joiner.Ack(2);
        joiner.Committable.Should().BeEmpty();
        joiner.Ack(0);
        joiner.Committable.Should().BeEmpty("batch 0 has a second part (another resolver or target) outstanding");
        joiner.Ack(0);

        joiner.Committable[("t", 0)].Should().Be(20);
        joiner.Committable[("t", 1)].Should().Be(5);
        committed.Should().Equal(("t", 0, 10L), ("t", 0, 20L), ("t", 1, 5L));
        joiner.InFlight.Should().Be(0);
    }

    [Fact]
    public void A_batch_with_no_parts_commits_at_once_and_an_extra_ack_is_an_error()
    {
        var joiner = new AckJoiner();
        joiner.Register(0, Batch(0, 0, 3), parts: 0);
        joiner.Committable[("t", 0)].Should().Be(3);
        var act = () => joiner.Ack(0);
        act.Should().Throw<InvalidOperationException>();
    }
}
