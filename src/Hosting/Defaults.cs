using Sluice.Pipeline.Runtime;
using Sluice.Sinks;
using Sluice.Sources;

namespace Sluice;

/// <summary>
/// Every kind Sluice ships, registered once: the sources it reads, the targets it writes, the stores it opens by URI.
/// Adding a source or a store is one line here (and its folder under Sources or Sinks); tests and benchmarks tune a kind
/// with <see cref="Connectors.With(Pipeline.Contracts.ISourceKind)"/>.
/// </summary>
public static class Defaults
{
    /// <summary>The registered kinds.</summary>
    public static Connectors Connectors { get; } = new(
        sources: [new KafkaSourceKind(), new KinesisSourceKind(), new PubSubSourceKind(), new RecordingSourceKind()],
        targets: [new KafkaTargetKind(), new KinesisTargetKind(), new PubSubTargetKind(), new RecordingTargetKind()],
        online: [new SqliteOnlineStoreKind(), new RedisOnlineStoreKind()],
        dedup: [new MemoryDedupStoreKind(), new SqliteDedupStoreKind(), new RedisDedupStoreKind(), new DynamoDedupStoreKind()],
        offline: (directory, maxAge) => new ParquetOfflineStore(directory) { MaxFileAge = maxAge },
        files: new FileTargets());
}
