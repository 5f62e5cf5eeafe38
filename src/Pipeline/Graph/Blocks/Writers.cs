using System.Threading.Tasks.Dataflow;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>What every writer block shares: bounded, one worker, its rows and busy time measured under its name.</summary>
internal static class Writers
{
    /// <summary>A writer block; <paramref name="work"/> returns its rows out, <paramref name="rowsIn"/> counts its rows in (feature rows by default).</summary>
    public static ActionBlock<WriterInput> Create(string name, GraphMetrics metrics, ExecutionDataflowBlockOptions bounded, Func<WriterInput, Task<long>> work,
        Func<WriterInput, long>? rowsIn = null)
    {
        ActionBlock<WriterInput>? block = null;
        var m = metrics.Add(name, 1, () => block?.InputCount ?? 0);
        rowsIn ??= x => x.Batch?.Features.Length ?? 0;
        return block = new ActionBlock<WriterInput>(x => m.MeasureAsync(rowsIn(x), () => work(x), n => n), bounded);
    }
}
