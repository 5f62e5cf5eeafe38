using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Runtime;

namespace Sluice;

/// <summary>A stream to read from or write to, as a resolver's source or sink target.</summary>
/// <param name="Name">The source's name in plans and outputs (by default the topic or file name).</param>
/// <param name="Kind">The source kind (<c>kafka</c>, <c>recording</c>, <c>pubsub</c>, <c>kinesis</c>, or one an application registers).</param>
/// <param name="Options">The source's options, named as in YAML (<c>bootstrap_servers</c>, <c>topic</c>, ...).</param>
public sealed record SourceRef(string Name, string Kind, IReadOnlyDictionary<string, string> Options);

/// <summary>How a sink encodes rows: one Arrow IPC stream per batch, or one JSON object per row.</summary>
public enum SinkFormat
{
    /// <summary>One Arrow IPC stream per batch (the default).</summary>
    IpcStream,
    /// <summary>One JSON object per row, keyed by FQN.</summary>
    Json,
}

/// <summary>Something that describes one resolver (stream, row or online): what the compiler turns into plans (<c>StreamPipeline.Build</c>).</summary>
public interface IResolver
{
    /// <summary>The resolver's name.</summary>
    string Name { get; }
    /// <summary>Adds the resolver (its feature class, message types, sources) to a definition set under construction.</summary>
    internal void Describe(DefinitionBuilder into);
}

/// <summary>
/// Stream resolvers in C#: <c>StreamResolver.For&lt;UserMessage&gt;("get_users_stream", source).Output(m =&gt; new User { ... })</c>.
/// Expressions are taken as expression trees and lowered to the same plan the YAML front-end produces; they never run per row.
/// </summary>
public static class StreamResolver
{
    /// <summary>Starts a resolver over JSON messages of <typeparamref name="TMessage"/> (field names from <c>[JsonPropertyName]</c> or <paramref name="naming"/>, snake_case by default).</summary>
    public static StreamResolver<TMessage> For<TMessage>(string name, SourceRef source, JsonNamingPolicy? naming = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(name, source, naming ?? JsonNamingPolicy.SnakeCaseLower, new SourceLocation(file, line, 1));

    /// <summary>
    /// A row resolver (the migration path from Chalk's <c>@stream</c>): <paramref name="function"/> runs once per message,
    /// on the message deserialized as <typeparamref name="TMessage"/>, and returns its features (null skips the message).
    /// It goes through the same graph, outcomes and stores as an expression resolver; expressions are faster.
    /// </summary>
    public static StreamResolver<TMessage, TFeatures> ForRows<TMessage, TFeatures>(string name, SourceRef source, Func<TMessage, TFeatures?> function,
        JsonNamingPolicy? naming = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) where TFeatures : class
    {
        var at = new SourceLocation(file, line, 1);
        return new(new ResolverSpec(name, source, typeof(TMessage), naming ?? JsonNamingPolicy.SnakeCaseLower, at)
        {
            Features = typeof(TFeatures),
            OutputAt = at,
            RowFunction = m => function((TMessage)m),
        });
    }

    /// <summary>Checks every resolver against the others (shared classes, sinks) and the kinds of <paramref name="connectors"/>, and compiles them into plans.</summary>
    /// <exception cref="DefinitionException">Every error found, each with its code, resolver, feature and C# call site.</exception>
    internal static CompiledDefinitions Compile(Connectors connectors, params IResolver[] resolvers)
    {
        var builder = new DefinitionBuilder();
        foreach (var r in resolvers) r.Describe(builder);
        var compiled = DefinitionCompiler.Compile(builder.Build(), connectors, out var errors);
        if (compiled is null || builder.Errors.Count > 0) throw new DefinitionException([.. builder.Errors, .. errors]);
        return compiled with { Resolvers = compiled.Resolvers.Select(builder.Attach).ToList() };
    }
}

/// <summary>
/// C# online resolvers: an async, batched function from features of a class to more features of it (the seed's
/// embedding model). One runs in every stream resolver of its class whose sink lists one of its outputs.
/// </summary>
public static class OnlineResolver
{
    /// <summary>
    /// <paramref name="compute"/> receives the rows of a batch as <typeparamref name="TFeatures"/> objects (the features the
    /// stream resolver computed) and returns one object per row, in order, whose <paramref name="outputs"/> it filled.
    /// </summary>
    public static OnlineResolver<TFeatures> For<TFeatures>(string name, Func<IReadOnlyList<TFeatures>, CancellationToken, Task<IReadOnlyList<TFeatures>>> compute,
        IReadOnlyList<Expression<Func<TFeatures, object?>>> outputs, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) where TFeatures : class, new()
    {
        var names = outputs.Select(o => o.Body switch
        {
            MemberExpression m => ClrSchemas.Snake(m.Member.Name),
            UnaryExpression { Operand: MemberExpression m } => ClrSchemas.Snake(m.Member.Name),
            _ => throw new UnsupportedExpressionException($"an online resolver's outputs are properties, f => f.Embedding, not '{o.Body}'"),
        }).ToList();
        var computation = new OnlineComputation(name, typeof(TFeatures), names, async (rows, ct) =>
            (await compute(rows.Cast<TFeatures>().ToList(), ct).ConfigureAwait(false)).Cast<object?>().ToList());
        return new OnlineResolver<TFeatures>(computation, new SourceLocation(file, line, 1));
    }
}

/// <summary>A C# online resolver, passed to <c>StreamPipeline.Build</c> with the stream resolvers it serves.</summary>
/// <typeparam name="TFeatures">The feature class it reads and completes.</typeparam>
public sealed class OnlineResolver<TFeatures> : IResolver
{
    private readonly OnlineComputation _computation;
    private readonly SourceLocation _at;

    internal OnlineResolver(OnlineComputation computation, SourceLocation at)
    {
        _computation = computation;
        _at = at;
    }

    /// <inheritdoc/>
    public string Name => _computation.Name;

    void IResolver.Describe(DefinitionBuilder into) => into.AddOnline(_computation, _at);
}

/// <summary>Definitions that do not compile: every error, as <c>sluice validate</c> prints them.</summary>
public sealed class DefinitionException(IReadOnlyList<DefinitionDiagnostic> errors)
    : Exception(string.Join(Environment.NewLine, errors.Select(e => e.ToString())))
{
    /// <summary>The errors, in the order found.</summary>
    public IReadOnlyList<DefinitionDiagnostic> Errors { get; } = errors;
}

/// <summary>A resolver being described; each call returns a new, immutable description.</summary>
/// <typeparam name="TMessage">The message type (a record of JSON fields).</typeparam>
public class StreamResolver<TMessage> : IResolver
{
    private protected readonly ResolverSpec _spec;

    internal StreamResolver(string name, SourceRef source, JsonNamingPolicy naming, SourceLocation at) =>
        _spec = new ResolverSpec(name, source, typeof(TMessage), naming, at);

    private protected StreamResolver(ResolverSpec spec) => _spec = spec;

    /// <inheritdoc/>
    public string Name => _spec.Name;

    /// <summary>The output features: <c>m =&gt; new User { UserId = m.Id, ... }</c>; each assignment is one output feature.</summary>
    public StreamResolver<TMessage, TFeatures> Output<TFeatures>(Expression<Func<TMessage, TFeatures>> output,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(_spec with { Features = typeof(TFeatures), Output = output, OutputAt = new SourceLocation(file, line, 1) });

    void IResolver.Describe(DefinitionBuilder into) => into.Add(_spec);
}

/// <summary>A resolver with its output features; the remaining options of a stream resolver.</summary>
/// <typeparam name="TMessage">The message type.</typeparam>
/// <typeparam name="TFeatures">The feature class written.</typeparam>
public sealed class StreamResolver<TMessage, TFeatures> : StreamResolver<TMessage>
{
    internal StreamResolver(ResolverSpec spec) : base(spec) { }

    private StreamResolver<TMessage, TFeatures> With(ResolverSpec spec) => new(spec);

    /// <summary>Keeps only messages whose header <paramref name="name"/> equals one of <paramref name="values"/> (checked before parsing).</summary>
    public StreamResolver<TMessage, TFeatures> HeaderFilter(string name, params string[] values) =>
        With(_spec with { HeaderFilters = [.. _spec.HeaderFilters, (name, values.Select(Encoding.UTF8.GetBytes).ToArray())] });

    /// <summary>Keeps only messages whose header <paramref name="name"/> equals <paramref name="value"/> (e.g. <c>"User"u8</c>).</summary>
    public StreamResolver<TMessage, TFeatures> HeaderFilter(string name, ReadOnlySpan<byte> value) =>
        With(_spec with { HeaderFilters = [.. _spec.HeaderFilters, (name, new[] { value.ToArray() })] });

    /// <summary>A custom parse over the raw message bytes that yields the message or null (the message is skipped).</summary>
    public StreamResolver<TMessage, TFeatures> Parse(Expression<Func<byte[], TMessage?>> parse) => With(_spec with { Parse = parse });

    /// <summary>Drops a message whose key <paramref name="on"/> was seen within <paramref name="within"/> (a redelivery is not a duplicate).</summary>
    public StreamResolver<TMessage, TFeatures> Deduplicate<TKey>(Expression<Func<TMessage, TKey>> on, TimeSpan within) =>
        With(_spec with { Deduplication = (on, within) });

    /// <summary>Also writes <paramref name="features"/> (<c>f =&gt; new { f.UserId, f.UpdatedAt }</c>) to <paramref name="target"/>.</summary>
    public StreamResolver<TMessage, TFeatures> Sink(SourceRef target, Expression<Func<TFeatures, object>> features, SinkFormat format = SinkFormat.IpcStream)
    {
        var names = features.Body switch
        {
            NewExpression n when n.Members is not null => n.Members.Select(m => m.Name).ToList(),
            MemberExpression m => [m.Member.Name],
            UnaryExpression { Operand: MemberExpression m } => [m.Member.Name],
            _ => throw new UnsupportedExpressionException($"a sink lists features as f => new {{ f.A, f.B }} or f => f.A, not '{features.Body}'"),
        };
        return With(_spec with { Sink = (target, names, format) });
    }

    /// <summary>Does not write the online store.</summary>
    public StreamResolver<TMessage, TFeatures> SkipOnline(bool skip = true) => With(_spec with { SkipOnline = skip });

    /// <summary>Does not write the offline store.</summary>
    public StreamResolver<TMessage, TFeatures> SkipOffline(bool skip = true) => With(_spec with { SkipOffline = skip });

    /// <summary>Runs only when one of <paramref name="environments"/> is active.</summary>
    public StreamResolver<TMessage, TFeatures> Environments(params string[] environments) => With(_spec with { Environments = environments });

    /// <summary>Exposes <c>_.__envelope__</c> (topic, partition, offset, timestamp, key, headers) to expressions.</summary>
    public StreamResolver<TMessage, TFeatures> IncludeMessageEnvelope(bool include = true) => With(_spec with { IncludeMessageEnvelope = include });
}

/// <summary>What one C# resolver says, before it is lowered into definitions.</summary>
internal sealed record ResolverSpec(string Name, SourceRef Source, Type Message, JsonNamingPolicy Naming, SourceLocation At)
{
    public Type? Features { get; init; }
    public LambdaExpression? Output { get; init; }
    public SourceLocation OutputAt { get; init; }
    public LambdaExpression? Parse { get; init; }
    public IReadOnlyList<(string Name, byte[][] Values)> HeaderFilters { get; init; } = [];
    public (LambdaExpression On, TimeSpan Within)? Deduplication { get; init; }
    public (SourceRef Target, IReadOnlyList<string> Features, SinkFormat Format)? Sink { get; init; }
    public bool SkipOnline { get; init; }
    public bool SkipOffline { get; init; }
    public IReadOnlyList<string>? Environments { get; init; }
    public bool IncludeMessageEnvelope { get; init; }
    public Func<object, object?>? RowFunction { get; init; }
}

/// <summary>Collects C# resolvers into the same <see cref="DefinitionSet"/> the YAML loader produces.</summary>
internal sealed class DefinitionBuilder
{
    private readonly List<FeatureClassDef> _classes = [];
    private readonly Dictionary<string, MessageDef> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SourceDef> _sources = new(StringComparer.Ordinal);
    private readonly List<ResolverDef> _resolvers = [];
    private readonly HashSet<Type> _classTypes = [];
    private string _file = "";

    /// <summary>The functions of row resolvers, by resolver name.</summary>
    public Dictionary<string, RowProjection> RowProjections { get; } = new(StringComparer.Ordinal);

    /// <summary>Expressions that could not be lowered (SLU224), reported with the compiler's errors.</summary>
    public List<DefinitionDiagnostic> Errors { get; } = [];

    public DefinitionSet Build() => new(_file, _classes, _messages.Values.ToList(), [], _sources.Values.ToList(), _resolvers)
    {
        ComputedFeatures = Online.SelectMany(o => o.Outputs.Select(f => $"{o.Features.Name}.{f}")).ToList(),
        ProtoContracts = _contracts.ToList(),
    };

    private readonly HashSet<Type> _contracts = [];

    /// <summary>The C# online resolvers.</summary>
    public List<OnlineComputation> Online { get; } = [];

    public void AddOnline(OnlineComputation online, SourceLocation at)
    {
        if (_file.Length == 0) _file = at.File;
        AddClass(online.Features, at);
        Online.Add(online);
    }

    /// <summary>A compiled resolver with the row function and online resolvers the C# front-end attaches to it.</summary>
    public ResolverPlan Attach(ResolverPlan p)
    {
        if (RowProjections.TryGetValue(p.Name, out var rows)) p = p with { Rows = rows };
        // Sink features are written Class.feature (or namespace.feature): the ones of this resolver's class, by name.
        var sinkFeatures = (p.Sink?.Fqns ?? []).Select(f => f.Split('.', 2)).Where(x => x.Length == 2 && (x[0] == p.Class.Name || x[0] == p.Class.Namespace))
            .Select(x => x[1]).ToHashSet(StringComparer.Ordinal);
        var online = Online.Where(o => o.Features.Name == p.Class.Name && o.Outputs.Any(sinkFeatures.Contains)).ToList();
        return online.Count == 0 ? p : p with { Online = online };
    }

    private static Located<string> At(string value, SourceLocation at) => new(value, at);

    public void Add(ResolverSpec r)
    {
        if (_file.Length == 0) _file = r.At.File;
        var schemas = new ClrSchemas(r.Naming);
        AddSource(r.Source, r.At);

        string message = r.Message == typeof(string) ? "string" : r.Message == typeof(byte[]) ? "bytes" : schemas.TypeText(r.Message).TrimEnd('?');

        var outputs = new List<OutputFeatureDef>();
        if (r.Features is { } rowClass && r.RowFunction is { } function)
        {
            // A row resolver writes every plain feature of its class; the compiler checks the class, the function computes the values.
            AddClass(rowClass, r.OutputAt);
            foreach (var property in ClrSchemas.Properties(rowClass).Where(x => x.CanWrite && x.GetCustomAttribute<DerivedAttribute>() is null))
                outputs.Add(new OutputFeatureDef(At($"{rowClass.Name}.{ClrSchemas.Snake(property.Name)}", r.OutputAt), At("None", r.OutputAt)));
            RowProjections[r.Name] = new RowProjection(r.Message, rowClass, function,
                new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = r.Naming });
        }
        else if (r.Features is { } features)
        {
            AddClass(features, r.OutputAt);
            if (r.Output!.Body is not MemberInitExpression init || init.NewExpression.Arguments.Count > 0)
                Unsupported(r, $"Output must be an object initializer, e.g. m => new {features.Name} {{ UserId = m.Id }}, not '{r.Output.Body}'", r.OutputAt);
            else
                foreach (var binding in init.Bindings)
                {
                    var feature = $"{features.Name}.{ClrSchemas.Snake(binding.Member.Name)}";
                    if (binding is not MemberAssignment assignment) Unsupported(r, $"{feature}: only assignments (Feature = expression) are lowered", r.OutputAt, feature);
                    else if (Lower(r, assignment.Expression, r.Output.Parameters[0], schemas, r.OutputAt, feature) is { } text)
                        outputs.Add(new OutputFeatureDef(At(feature, r.OutputAt), At(text, r.OutputAt)));
                }
        }

        Located<string>? parse = null;
        if (r.Parse is { } p && Lower(r, p.Body, p.Parameters[0], schemas, r.At, null) is { } parseText) parse = At(parseText, r.At);
        DeduplicationDef? dedup = null;
        if (r.Deduplication is { } d && Lower(r, d.On.Body, d.On.Parameters[0], schemas, r.At, null) is { } on)
            dedup = new DeduplicationDef(At(on, r.At), At(Duration(d.Within), r.At), r.At);
        SinkDef? sink = null;
        if (r.Sink is { } s)
        {
            AddSource(s.Target, r.At);
            sink = new SinkDef(At(s.Target.Name, r.At), s.Features.Select(f => At($"{r.Features!.Name}.{ClrSchemas.Snake(f)}", r.At)).ToList(),
                At(s.Format == SinkFormat.Json ? "json" : "ipc_stream", r.At), r.At);
        }
        AddMessages(schemas, r.At);
        _contracts.UnionWith(schemas.ProtoContracts);
        _resolvers.Add(new ResolverDef(r.Name, At(r.Source.Name, r.At), At(message, r.At), outputs, parse,
            r.HeaderFilters.Select(h => new HeaderFilterDef(At(h.Name, r.At), h.Values, r.At)).ToList(), dedup, sink,
            r.SkipOnline, r.SkipOffline, r.Environments, r.IncludeMessageEnvelope, r.At));
    }

    private string? Lower(ResolverSpec r, Expression body, ParameterExpression root, ClrSchemas schemas, SourceLocation at, string? feature)
    {
        try { return new ExpressionLowering(root, schemas).Visit(body); }
        catch (UnsupportedExpressionException e)
        {
            Unsupported(r, e.Message, at, feature);
            return null;
        }
    }

    private void Unsupported(ResolverSpec r, string message, SourceLocation at, string? feature = null) =>
        Errors.Add(new DefinitionDiagnostic(DefinitionErrorCodes.UnsupportedCSharpExpression, message, at, r.Name, feature));

    private void AddSource(SourceRef source, SourceLocation at)
    {
        var def = new SourceDef(source.Name, At(source.Kind, at), source.Options.ToDictionary(o => o.Key, o => At(o.Value, at), StringComparer.Ordinal), at);
        if (_sources.TryGetValue(source.Name, out var existing) &&
            (existing.Kind.Value != def.Kind.Value || !existing.Options.OrderBy(o => o.Key).Select(o => (o.Key, o.Value.Value)).SequenceEqual(def.Options.OrderBy(o => o.Key).Select(o => (o.Key, o.Value.Value)))))
            Errors.Add(new DefinitionDiagnostic(DefinitionErrorCodes.DuplicateName, $"two different sources are named '{source.Name}'; pass name: to tell them apart", at));
        _sources.TryAdd(source.Name, def);
    }

    private void AddMessages(ClrSchemas schemas, SourceLocation at)
    {
        for (int i = 0; i < schemas.Messages.Count; i++) // grows while nested records are met
        {
            var (name, type) = schemas.Messages[i];
            if (_messages.ContainsKey(name)) continue;
            var fields = new List<(string, Located<string>)>();
            foreach (var p in ClrSchemas.Properties(type))
            {
                try { fields.Add((schemas.FieldName(p), At(schemas.TypeOf(p), at))); }
                catch (NotSupportedException e)
                {
                    Errors.Add(new DefinitionDiagnostic(DefinitionErrorCodes.UnsupportedFieldType, $"{type.Name}.{p.Name}: {e.Message}", at));
                }
            }
            _messages[name] = new MessageDef(name, fields, at);
        }
    }

    private void AddClass(Type type, SourceLocation at)
    {
        if (!_classTypes.Add(type)) return;
        var schemas = new ClrSchemas(System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        var features = new List<FeatureDef>();
        foreach (var p in ClrSchemas.Properties(type))
        {
            string typeText;
            try { typeText = schemas.TypeOf(p); }
            catch (NotSupportedException e)
            {
                Errors.Add(new DefinitionDiagnostic(DefinitionErrorCodes.UnsupportedFieldType, $"{type.Name}.{p.Name}: {e.Message}", at));
                continue;
            }
            var derived = p.GetCustomAttribute<DerivedAttribute>()?.Expression;
            features.Add(new FeatureDef(ClrSchemas.Snake(p.Name), At(typeText, at), p.GetCustomAttribute<PrimaryKeyAttribute>() is not null,
                p.GetCustomAttribute<FeatureTimeAttribute>() is not null, derived is null ? null : At(derived, at), at));
        }
        AddMessages(schemas, at);
        var staleness = type.GetCustomAttribute<FeatureClassAttribute>()?.MaxStaleness;
        _classes.Add(new FeatureClassDef(type.Name, features, staleness is null ? null : At(staleness, at), at));
    }

    /// <summary>A TimeSpan as a duration text the compiler reads back exactly (1d2h30m, 500ms).</summary>
    internal static string Duration(TimeSpan t)
    {
        var sb = new StringBuilder();
        long ms = (long)t.TotalMilliseconds;
        foreach (var (unit, size) in new[] { ("d", 86_400_000L), ("h", 3_600_000L), ("m", 60_000L), ("s", 1000L), ("ms", 1L) })
        {
            if (ms >= size) sb.Append(ms / size).Append(unit);
            ms %= size;
        }
        return sb.Length == 0 ? "0s" : sb.ToString();
    }
}
