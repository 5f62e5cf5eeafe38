namespace Sluice.Pipeline.Contracts;

/// <summary>One record a target sends: a key, a value and headers (attributes), as a message broker takes them.</summary>
/// <param name="Key">The record's key (a sink row's primary key; a dead letter's original key); null for none.</param>
/// <param name="Value">The payload (null: none, a tombstone).</param>
/// <param name="Headers">Headers in order (names may repeat).</param>
public sealed record OutRecord(byte[]? Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]>> Headers);
