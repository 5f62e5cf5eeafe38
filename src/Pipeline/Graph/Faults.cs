using Sluice.Pipeline.Messages;

namespace Sluice.Pipeline.Graph;

/// <summary>Runs a block's work so that a failure travels with the block's name and the positions it was working on.</summary>
internal static class Faults
{
    /// <summary>The positions a fault names: first..last of the batch, or the staged group when the work spans batches.</summary>
    private static string Positions(MessageBatch? b) => b is null ? "(staged batches)" : b.Length == 0 ? "(none)"
        : b.Length == 1 ? b.Position(0) : $"{b.Position(0)}..{b.Position(b.Length - 1)}";

    /// <summary>Runs <paramref name="work"/>, wrapping a failure in a <see cref="GraphFaultException"/> with the block and positions.</summary>
    public static T Guard<T>(string block, MessageBatch? at, Func<T> work)
    {
        try { return work(); }
        catch (Exception e) when (e is not OperationCanceledException and not GraphFaultException) { throw new GraphFaultException(block, Positions(at), e); }
    }

    /// <summary>Runs asynchronous <paramref name="work"/> as <see cref="Guard{T}"/> does.</summary>
    public static async Task<T> GuardAsync<T>(string block, MessageBatch? at, Func<Task<T>> work)
    {
        try { return await work(); }
        catch (Exception e) when (e is not OperationCanceledException and not GraphFaultException) { throw new GraphFaultException(block, Positions(at), e); }
    }

    /// <summary>Runs asynchronous <paramref name="work"/> without a result as <see cref="Guard{T}"/> does.</summary>
    public static Task GuardAsync(string block, MessageBatch? at, Func<Task> work) => GuardAsync(block, at, async () => { await work(); return 0; });
}
