using Sluice.Kernels.Expressions;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Definitions;

namespace Sluice.Pipeline.Compilation;

/// <summary>A feature with its fully qualified name (<c>user.email_address</c>), its type, and whether it is the primary key or the feature time.</summary>
public sealed record FeaturePlan(string Fqn, string Name, DataType Type, bool Primary, bool FeatureTime)
{
    /// <summary>The compiled expression of a derived feature (computed from the others of its class).</summary>
    internal CompiledExpression? Derived { get; init; }
}

/// <summary>A checked feature class.</summary>
public sealed record FeatureClassPlan(string Name, string Namespace, IReadOnlyList<FeaturePlan> Features, TimeSpan? MaxStaleness)
{
    /// <summary>The primary-key feature.</summary>
    public FeaturePlan Primary => Features.First(f => f.Primary);
    /// <summary>The feature-time feature, if declared.</summary>
    public FeaturePlan? FeatureTime => Features.FirstOrDefault(f => f.FeatureTime);

    /// <summary>When a value written at <paramref name="nowMicros"/> expires (<c>max_staleness</c> after the write); null when it never does.</summary>
    public long? ExpiresAt(long nowMicros) => MaxStaleness is { } s ? nowMicros + (long)(s.TotalMilliseconds * 1000) : null;
}

/// <summary>One output feature of a resolver and the expression that computes it.</summary>
internal sealed record OutputPlan(FeaturePlan Feature, CompiledExpression Expression);

/// <summary>Where a resolver's sink writes (the name of a source), which features (as written: <c>Class.feature</c>), in which encoding (<c>json</c> or <c>ipc_stream</c>).</summary>
public sealed record SinkPlan(string Target, IReadOnlyList<string> Fqns, string Format);

/// <summary>A header filter: the header must equal one of the values.</summary>
internal sealed record HeaderFilterPlan(string Name, IReadOnlyList<byte[]> Values);

/// <summary>
/// An immutable, checked resolver: everything the block graph needs, no names left to look up. What stores and targets
/// read of it is public (its name, source, feature class, sink and options); how it computes is the engine's.
/// </summary>
public sealed record ResolverPlan
{
    /// <summary>The resolver's name.</summary>
    public required string Name { get; init; }
    /// <summary>The source it reads, with its options as written.</summary>
    public required SourceDef Source { get; init; }
    /// <summary>The type of its parsed messages.</summary>
    public required DataType MessageType { get; init; }
    /// <summary>The feature class it writes.</summary>
    public required FeatureClassPlan Class { get; init; }
    /// <summary>Where its rows also go, if anywhere.</summary>
    public SinkPlan? Sink { get; init; }
    /// <summary>Its rows skip the online store.</summary>
    public bool SkipOnline { get; init; }
    /// <summary>Its rows skip the offline store.</summary>
    public bool SkipOffline { get; init; }
    /// <summary>The environments it runs in (null or empty: every one, and also when no environment is set); one that lists some does not run without an environment.</summary>
    public IReadOnlyList<string>? Environments { get; init; }

    /// <summary>The parse expression over the raw message, if any.</summary>
    internal CompiledExpression? Parse { get; init; }
    /// <summary>The output features and their expressions.</summary>
    internal IReadOnlyList<OutputPlan> Outputs { get; init; } = [];
    /// <summary>The header filters.</summary>
    internal IReadOnlyList<HeaderFilterPlan> HeaderFilters { get; init; } = [];
    /// <summary>The deduplication key, if it deduplicates.</summary>
    internal CompiledExpression? DeduplicationKey { get; init; }
    /// <summary>The deduplication window.</summary>
    internal TimeSpan? DeduplicationWindow { get; init; }
    /// <summary>Whether <c>_.__envelope__</c> is part of the message.</summary>
    internal bool IncludeMessageEnvelope { get; init; }
    /// <summary>The wire schema when the message type is a protobuf message (then messages are parsed from protobuf, not JSON).</summary>
    internal ProtoMessage? Protobuf { get; init; }
    /// <summary>For a row resolver: its C# function computes the output features instead of their expressions.</summary>
    internal RowProjection? Rows { get; init; }
    /// <summary>The C# online resolvers that run on its batches (those whose outputs its sink lists).</summary>
    internal IReadOnlyList<OnlineComputation>? Online { get; init; }

    /// <summary>The header filters by header name: several filters on one name widen its set of accepted values.</summary>
    internal IReadOnlyList<(string Name, byte[][] Values)> HeaderFiltersByName =>
        HeaderFilters.GroupBy(f => f.Name, StringComparer.Ordinal).Select(g => (g.Key, g.SelectMany(f => f.Values).ToArray())).ToList();

    /// <summary>Whether the resolver runs in <paramref name="environment"/> (all run when none is listed or none is active).</summary>
    public bool RunsIn(string? environment) => Environments is not { Count: > 0 } || (environment is not null && Environments.Contains(environment));

    /// <summary>The fully qualified names of the features it maps from the message.</summary>
    public IEnumerable<string> OutputFeatures => Outputs.Select(o => o.Feature.Fqn);
}

/// <summary>The compiled definitions: feature classes, resolvers and sources.</summary>
public sealed record CompiledDefinitions(
    IReadOnlyList<FeatureClassPlan> Classes,
    IReadOnlyList<ResolverPlan> Resolvers,
    IReadOnlyDictionary<string, SourceDef> Sources);
