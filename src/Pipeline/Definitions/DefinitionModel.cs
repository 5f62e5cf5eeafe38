namespace Sluice.Pipeline.Definitions;

/// <summary>Where something was written: file, 1-based line and column.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <summary>Moves right by <paramref name="columns"/> on the same line (for positions inside a one-line scalar).</summary>
    public SourceLocation Offset(int columns) => this with { Column = Column + columns };

    /// <inheritdoc/>
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>A value as written, with its location.</summary>
public sealed record Located<T>(T Value, SourceLocation Location);

/// <summary>A feature of a feature class: a type, optionally primary, feature time, or derived by an expression.</summary>
internal sealed record FeatureDef(string Name, Located<string> Type, bool Primary, bool FeatureTime, Located<string>? Expression, SourceLocation Location);

/// <summary>A namespace of features with one primary key.</summary>
internal sealed record FeatureClassDef(string Name, IReadOnlyList<FeatureDef> Features, Located<string>? MaxStaleness, SourceLocation Location);

/// <summary>A JSON message type: named fields with type texts.</summary>
internal sealed record MessageDef(string Name, IReadOnlyList<(string Name, Located<string> Type)> Fields, SourceLocation Location);

/// <summary>A stream source: its kind and its options as written (checked per kind by the compiler).</summary>
public sealed record SourceDef(string Name, Located<string> Kind, IReadOnlyDictionary<string, Located<string>> Options, SourceLocation Location);

/// <summary>One <c>Class.feature: expression</c> line of a resolver.</summary>
internal sealed record OutputFeatureDef(Located<string> Feature, Located<string> Expression);

/// <summary><c>[name, value, value...]</c>: the message must carry header <see cref="Name"/> equal to one of the values.</summary>
internal sealed record HeaderFilterDef(Located<string> Name, IReadOnlyList<byte[]> Values, SourceLocation Location);

/// <summary>Drop messages whose <see cref="On"/> key was seen within <see cref="Within"/>.</summary>
internal sealed record DeduplicationDef(Located<string> On, Located<string> Within, SourceLocation Location);

/// <summary>Where a resolver's features also go.</summary>
internal sealed record SinkDef(Located<string> SendTo, IReadOnlyList<Located<string>> OutputFeatures, Located<string> Format, SourceLocation Location);

/// <summary>A stream resolver as written.</summary>
internal sealed record ResolverDef(
    string Name,
    Located<string>? Source,
    Located<string>? MessageType,
    IReadOnlyList<OutputFeatureDef> OutputFeatures,
    Located<string>? Parse,
    IReadOnlyList<HeaderFilterDef> HeaderFilters,
    DeduplicationDef? Deduplication,
    SinkDef? Sink,
    bool SkipOnline,
    bool SkipOffline,
    IReadOnlyList<string>? Environments,
    bool IncludeMessageEnvelope,
    SourceLocation Location);

/// <summary>Everything one definition file declares.</summary>
internal sealed record DefinitionSet(
    string File,
    IReadOnlyList<FeatureClassDef> FeatureClasses,
    IReadOnlyList<MessageDef> Messages,
    IReadOnlyList<Located<string>> Protos,
    IReadOnlyList<SourceDef> Sources,
    IReadOnlyList<ResolverDef> Resolvers)
{
    /// <summary>Features that C# online resolvers compute (<c>Class.feature</c>): a sink may list them.</summary>
    public IReadOnlyList<string> ComputedFeatures { get; init; } = [];

    /// <summary>protobuf-net contract types that C# resolvers use as message types (beside the <c>.proto</c> files).</summary>
    public IReadOnlyList<Type> ProtoContracts { get; init; } = [];
}
