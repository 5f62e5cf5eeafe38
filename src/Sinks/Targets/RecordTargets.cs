using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Execution;

namespace Sluice.Sinks;

/// <summary>
/// Sends records to one destination (a topic, a stream, a file): what each target kind implements once, for its sinks
/// and its dead letters alike. Durable (acknowledged by the server, or on disk) when <see cref="SendAsync"/> returns.
/// </summary>
internal interface IRecordTransport : IAsyncDisposable
{
    /// <summary>Whether records keep their headers (else a dead letter travels as its JSONL line: <see cref="DeadLetters.Encode"/>).</summary>
    bool CarriesHeaders { get; }

    /// <summary>Sends every record; returns once all are durable, or throws with the first failure.</summary>
    Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken);
}

/// <summary>A resolver's sink rows (<see cref="SinkRecords"/>) sent through a transport.</summary>
internal sealed class SinkTarget(IRecordTransport transport) : IBatchTarget
{
    public async Task<int> WriteAsync(ResolverPlan plan, ResolvedBatch batch, CancellationToken cancellationToken)
    {
        var records = SinkRecords.Encode(plan, batch);
        if (records.Count > 0) await transport.SendAsync(records, cancellationToken);
        return records.Count;
    }

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

    public ValueTask DisposeAsync() => transport.DisposeAsync();
}
