namespace Sluice.Pipeline.Definitions;

/// <summary>One error in a definition: a stable code, what to do, where, and (when known) the resolver and feature.</summary>
public sealed record DefinitionDiagnostic(string Code, string Message, SourceLocation Location, string? Resolver = null, string? Feature = null)
{
    /// <inheritdoc/>
    public override string ToString()
    {
        var context = Resolver is null ? "" : Feature is null ? $"resolver '{Resolver}': " : $"resolver '{Resolver}', feature '{Feature}': ";
        return $"{Code}: {context}{Message} ({Location})";
    }
}

/// <summary>Stable codes of definition errors (SLU2xx). Expression errors keep their SLU0xx/SLU1xx codes.</summary>
public static class DefinitionErrorCodes
{
    /// <summary>The file is not valid YAML.</summary>
    public const string YamlSyntax = "SLU201";
    /// <summary>A key that this place does not take.</summary>
    public const string UnknownKey = "SLU202";
    /// <summary>A value of the wrong shape (mapping, list, scalar, bool).</summary>
    public const string WrongShape = "SLU203";
    /// <summary>${VAR} without a default and VAR is not set.</summary>
    public const string UnsetVariable = "SLU204";
    /// <summary>A message type that is not declared.</summary>
    public const string UnknownMessageType = "SLU205";
    /// <summary>A feature or feature class that is not declared.</summary>
    public const string UnknownFeature = "SLU206";
    /// <summary>A message field of an unknown type.</summary>
    public const string UnknownFieldType = "SLU207";
    /// <summary>A union, Any or otherwise ill-defined field type.</summary>
    public const string UnsupportedFieldType = "SLU208";
    /// <summary>A message type that contains itself.</summary>
    public const string RecursiveType = "SLU209";
    /// <summary>An expression whose type does not fit its feature.</summary>
    public const string FeatureTypeMismatch = "SLU210";
    /// <summary>A resolver source that is not declared.</summary>
    public const string UnknownSource = "SLU211";
    /// <summary>A sink target that is not a declared source.</summary>
    public const string UnknownSinkTarget = "SLU212";
    /// <summary>A sink feature that nothing produces.</summary>
    public const string SinkFeatureNotProduced = "SLU213";
    /// <summary>A header filter with a name but no values.</summary>
    public const string HeaderFilterWithoutValues = "SLU214";
    /// <summary>A duration that is not like 30s, 15m, 24h, 7d.</summary>
    public const string InvalidDuration = "SLU215";
    /// <summary>A required key is missing.</summary>
    public const string MissingKey = "SLU216";
    /// <summary>A feature class without exactly one primary key, or with a bad feature-time feature.</summary>
    public const string BadFeatureClass = "SLU217";
    /// <summary>An option that a later part of Sluice brings.</summary>
    public const string NotAvailable = "SLU218";
    /// <summary>A resolver that does not map its class's primary key, maps a feature twice, or mixes classes.</summary>
    public const string BadOutputFeatures = "SLU219";
    /// <summary>A parse expression that does not yield the message type.</summary>
    public const string ParseTypeMismatch = "SLU220";
    /// <summary>A name declared twice.</summary>
    public const string DuplicateName = "SLU221";
    /// <summary>A deduplication key that is not a scalar.</summary>
    public const string BadDeduplicationKey = "SLU222";
    /// <summary>A <c>.proto</c> file that is missing or does not parse (e.g. two fields with one number), reported at its file:line:col.</summary>
    public const string ProtoFile = "SLU223";
    /// <summary>A C# resolver expression with no Sluice equivalent (named in the message).</summary>
    public const string UnsupportedCSharpExpression = "SLU224";
    /// <summary>A source option whose value its kind does not take (not one of its choices, not a number).</summary>
    public const string InvalidOptionValue = "SLU225";
    /// <summary>A sink or dead-letter target that its kind cannot write to as given (e.g. a Pub/Sub source without topic_id).</summary>
    public const string UnwritableTarget = "SLU226";

    /// <summary>All codes, for docs and the uniqueness test.</summary>
    public static IReadOnlyList<(string Code, string Name)> All { get; } =
        typeof(DefinitionErrorCodes).GetFields().Where(f => f.IsLiteral).Select(f => ((string)f.GetRawConstantValue()!, f.Name)).ToList();
}
