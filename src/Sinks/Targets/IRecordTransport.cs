using Sluice.Pipeline.Contracts;

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

    /// <summary>Sends that may be outstanding at once; above one only when <see cref="SendAsync"/> has handed every record over, in order, by the time it returns its task.</summary>
    int SendsInFlight => 1;
}
