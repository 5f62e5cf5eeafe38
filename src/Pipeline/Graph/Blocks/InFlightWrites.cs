using System.Threading.Tasks.Dataflow;

namespace Sluice.Pipeline.Graph.Blocks;

/// <summary>
/// A writer's outstanding writes: started in order, at most a given number at once (the oldest is awaited before
/// another starts), and a failed one faults the writer's block at once rather than when it is next awaited.
/// </summary>
internal sealed class InFlightWrites
{
    private readonly Queue<Task> _writing = new();

    /// <summary>The block a failed write faults.</summary>
    public IDataflowBlock? Owner { get; set; }

    /// <summary>Waits until fewer than <paramref name="limit"/> writes are outstanding, then starts <paramref name="write"/>.</summary>
    public async Task StartAsync(int limit, Func<Task> write)
    {
        while (_writing.Count >= Math.Max(1, limit)) await _writing.Dequeue();
        var task = write();
        _writing.Enqueue(task);
        _ = task.ContinueWith(t => Owner?.Fault(t.Exception!.InnerException ?? t.Exception), CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits for every outstanding write.</summary>
    public async Task DrainAsync()
    {
        while (_writing.Count > 0) await _writing.Dequeue();
    }
}
