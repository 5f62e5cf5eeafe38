using Sluice.Kernels.Expressions;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Definitions;

namespace Sluice.Pipeline.Compilation;

/// <summary>A feature with its fully qualified name (<c>user.email_address</c>) and, when derived, its compiled expression.</summary>
public sealed record FeaturePlan(string Fqn, string Name, DataType Type, bool Primary, bool FeatureTime, CompiledExpression? Derived);

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
public sealed record OutputPlan(FeaturePlan Feature, CompiledExpression Expression);

/// <summary>Where a resolver's sink writes, which features, in which encoding.</summary>
public sealed record SinkPlan(string Target, IReadOnlyList<string> Fqns, string Format);

/// <summary>A header filter: the header must equal one of the values.</summary>
public sealed record HeaderFilterPlan(string Name, IReadOnlyList<byte[]> Values);

/// <summary>
/// An immutable, checked resolver: everything the block graph needs, no names left to look up. <see cref="Protobuf"/>
/// is the wire schema when the message type is a protobuf message (then messages are parsed from protobuf, not JSON).
/// <see cref="Rows"/> is set for a row resolver: its C# function computes the output features instead of their expressions.
/// <see cref="Online"/> lists the C# online resolvers that run on its batches (those whose outputs its sink lists).
/// </summary>
public sealed record ResolverPlan(
    string Name,
    SourceDef Source,
    DataType MessageType,
    CompiledExpression? Parse,
    FeatureClassPlan Class,
    IReadOnlyList<OutputPlan> Outputs,
    IReadOnlyList<HeaderFilterPlan> HeaderFilters,
    CompiledExpression? DeduplicationKey,
    TimeSpan? DeduplicationWindow,
    SinkPlan? Sink,
    bool SkipOnline,
    bool SkipOffline,
    IReadOnlyList<string>? Environments,
    bool IncludeMessageEnvelope,
    ProtoMessage? Protobuf = null,
    RowProjection? Rows = null,
    IReadOnlyList<OnlineComputation>? Online = null)
{
    /// <summary>The header filters by header name: several filters on one name widen its set of accepted values.</summary>
    public IReadOnlyList<(string Name, byte[][] Values)> HeaderFiltersByName =>
        HeaderFilters.GroupBy(f => f.Name, StringComparer.Ordinal).Select(g => (g.Key, g.SelectMany(f => f.Values).ToArray())).ToList();

    /// <summary>Whether the resolver runs in <paramref name="environment"/> (all run when none is listed or none is active).</summary>
    public bool RunsIn(string? environment) => Environments is null || environment is null || Environments.Contains(environment);
}

/// <summary>The compiled definition file.</summary>
public sealed record CompiledDefinitions(
    IReadOnlyList<FeatureClassPlan> Classes,
    IReadOnlyList<ResolverPlan> Resolvers,
    IReadOnlyDictionary<string, SourceDef> Sources);
