using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Sinks;
/// <summary>A resolver's sink rows (<see cref="SinkRecords"/>) sent through a transport.</summary>
internal sealed class SinkTarget(IRecordTransport transport) : IBatchTarget
{
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var records = SinkRecords.Encode(plan, batch);
        if (records.Count > 0) await transport.SendAsync(records, cancellationToken);
        return records.Count;
    }

    public int WritesInFlight(ResolverPlan plan) => transport.SendsInFlight;

    public ValueTask DisposeAsync() => transport.DisposeAsync();
}

/// <summary>A batch's dead letters (<see cref="DeadLetters"/>) sent through a transport.</summary>
internal sealed class DeadLetterTarget(IRecordTransport transport) : IBatchTarget
{
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var records = DeadLetters.Encode(plan, batch, transport.CarriesHeaders);
        if (records.Count > 0) await transport.SendAsync(records, cancellationToken);
        return records.Count;
    }

    public int WritesInFlight(ResolverPlan plan) => transport.SendsInFlight;

    public ValueTask DisposeAsync() => transport.DisposeAsync();
}
