using System.Threading.Tasks.Dataflow;
using Sluice.Pipeline.Contracts;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>Writes deliveries to a target (the sinks, the dead-letter target); a delivery is done when the target returned.</summary>
internal static class TargetWriter
{
    public const string Sink = "sink", DeadLetter = "dead-letter";

    /// <summary>The sink writer: its rows are the feature rows handed on.</summary>
    public static ActionBlock<WriterInput> CreateSink(IBatchTarget target, AckBlock acks, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded,
        CancellationToken cancellationToken) =>
        Writers.Create(Sink, metrics, bounded, async x =>
        {
            await Write(Sink, target, acks, x, cancellationToken);
            return x.Batch!.Features.Length;
        });

    /// <summary>The dead-letter writer: its rows in are messages, its rows out the dead letters written.</summary>
    public static ActionBlock<WriterInput> CreateDeadLetters(IBatchTarget target, AckBlock acks, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded,
        CancellationToken cancellationToken) =>
        Writers.Create(DeadLetter, metrics, bounded, x => Write(DeadLetter, target, acks, x, cancellationToken), x => x.Batch!.Messages.Length);

    private static async Task<long> Write(string name, IBatchTarget target, AckBlock acks, WriterInput x, CancellationToken cancellationToken)
    {
        var d = x.Delivery!;
        int written = await Faults.GuardAsync(name, x.Batch!.Messages, () => target.WriteAsync(d.Plan, x.Batch, cancellationToken));
        acks.Done(d);
        return written;
    }
}
