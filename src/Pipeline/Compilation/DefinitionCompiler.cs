using System.Text;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;
using Sluice.Pipeline.Contracts;
using Sluice.Pipeline.Definitions;
using Sluice.Pipeline.Runtime;

namespace Sluice.Pipeline.Compilation;

/// <summary>
/// Turns a <see cref="DefinitionSet"/> into immutable plans, reporting every error of the file at once with its
/// stable code, resolver, feature and file:line:col. Nothing here runs per message.
/// </summary>
internal sealed class DefinitionCompiler : ITypeScope
{
    /// <summary>The struct that <c>include_message_envelope</c> adds to the message as <c>_.__envelope__</c>.</summary>
    public static readonly DataType Envelope = DataType.StructOf("MessageEnvelope",
    [
        new StructField("topic", DataType.String), new StructField("partition", DataType.Int64), new StructField("offset", DataType.Int64),
        new StructField("timestamp", DataType.Timestamp), new StructField("key", DataType.Bytes.WithNullable(true)),
        new StructField("headers", DataType.ListOf(DataType.StructOf("Header", [new StructField("name", DataType.String), new StructField("value", DataType.Bytes)]))),
    ]);

    private readonly DefinitionSet _set;
    private readonly Connectors _connectors;
    private readonly List<DefinitionDiagnostic> _errors = [];
    private readonly Dictionary<string, MessageDef> _messageDefs;
    private readonly Dictionary<string, DataType?> _messageTypes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _resolving = new(StringComparer.Ordinal);
    private ProtoCatalog _protos = ProtoCatalog.Empty;

    private DefinitionCompiler(DefinitionSet set, Connectors connectors)
    {
        _set = set;
        _connectors = connectors;
        _messageDefs = set.Messages.GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    /// <summary>Compiles against the source kinds of <paramref name="connectors"/>; null with all errors when the definitions have any.</summary>
    public static CompiledDefinitions? Compile(DefinitionSet set, Connectors connectors, out IReadOnlyList<DefinitionDiagnostic> errors)
    {
        var c = new DefinitionCompiler(set, connectors);
        var result = c.Run();
        errors = c._errors;
        return c._errors.Count == 0 ? result : null;
    }

    /// <summary>Loads and compiles a definition file in one step, reporting the errors of both phases together.</summary>
    public static CompiledDefinitions? CompileFile(string path, Connectors connectors, out IReadOnlyList<DefinitionDiagnostic> errors) =>
        CompileText(File.ReadAllText(path), path, connectors, out errors);

    /// <summary>Loads and compiles definition text; <paramref name="file"/> names it in locations.</summary>
    public static CompiledDefinitions? CompileText(string text, string file, Connectors connectors, out IReadOnlyList<DefinitionDiagnostic> errors,
        Func<string, string?>? environment = null)
    {
        var set = YamlDefinitionLoader.Load(text, file, out var loadErrors, environment);
        if (set is null)
        {
            errors = loadErrors;
            return null;
        }
        var compiled = Compile(set, connectors, out var compileErrors);
        errors = [.. loadErrors, .. compileErrors];
        return errors.Count == 0 ? compiled : null;
    }

    DataType? ITypeScope.ResolveType(string name) => _messageDefs.ContainsKey(name) ? MessageType(name, null) : _protos.Type(name);

    ProtoMessage? ITypeScope.ResolveProtoMessage(string name) => _protos.Message(name, out _);

    private void Error(string code, string message, SourceLocation at, string? resolver = null, string? feature = null) =>
        _errors.Add(new DefinitionDiagnostic(code, message, at, resolver, feature));

    private CompiledDefinitions Run()
    {
        foreach (var m in _set.Messages) MessageType(m.Name, null);
        if (_set.Protos.Count > 0 || _set.ProtoContracts.Count > 0)
            _protos = ProtoCatalog.Load(_set.Protos, Path.GetDirectoryName(Path.GetFullPath(_set.File)) ?? ".",
                (message, at) => Error(DefinitionErrorCodes.ProtoFile, message, at));
        foreach (var contract in _set.ProtoContracts) _protos.AddContract(contract);
        var sources = new Dictionary<string, SourceDef>(StringComparer.Ordinal);
        foreach (var s in _set.Sources)
        {
            CheckSource(s);
            sources[s.Name] = s;
        }
        var classes = _set.FeatureClasses.Select(CompileClass).Where(c => c is not null).Select(c => c!).ToList();
        var byName = classes.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var resolvers = new List<ResolverPlan>();
        foreach (var r in _set.Resolvers)
            if (CompileResolver(r, byName, sources) is { } plan) resolvers.Add(plan);
        CheckSinks(classes);
        return new CompiledDefinitions(classes, resolvers, sources);
    }

    // ---- message types ----

    private DataType? MessageType(string name, SourceLocation? usedAt)
    {
        if (_messageTypes.TryGetValue(name, out var done)) return done;
        var def = _messageDefs[name];
        if (!_resolving.Add(name))
        {
            Error(DefinitionErrorCodes.RecursiveType,
                $"message {name} contains itself; recursive types have no fixed columns (extract the fields you need with a parse expression)", usedAt ?? def.Location);
            return null;
        }
        var fields = new List<StructField>();
        bool ok = true;
        foreach (var (field, type) in def.Fields)
        {
            var t = FieldType(type, $"{name}.{field}");
            if (t is null) ok = false;
            else fields.Add(new StructField(field, t));
        }
        _resolving.Remove(name);
        var result = ok ? DataType.StructOf(name, fields) : null;
        _messageTypes[name] = result;
        return result;
    }

    private DataType? FieldType(Located<string> type, string what)
    {
        string? missing = null;
        var t = TypeSyntax.TryParse(type.Value, n =>
        {
            if (_messageDefs.ContainsKey(n)) return MessageType(n, type.Location);
            missing = n;
            return null;
        }, out var error);
        if (t is not null) return t;
        if (error is not null && error.StartsWith("unknown type", StringComparison.Ordinal))
        {
            if (missing is not null && _messageDefs.ContainsKey(missing)) return null; // already reported (recursion)
            var s = Suggest(missing ?? type.Value, _messageDefs.Keys);
            Error(DefinitionErrorCodes.UnknownFieldType,
                $"{what}: {error}{(s is null ? "" : $"; did you mean '{s}'?")} (types: int64, float64, bool, string, bytes, timestamp, date, list<T>, a declared message; ? for nullable)", type.Location);
        }
        else Error(DefinitionErrorCodes.UnsupportedFieldType, $"{what}: {error}", type.Location);
        return null;
    }

    // ---- sources ----

    private void CheckSource(SourceDef s)
    {
        if (!_connectors.Sources.TryGetValue(s.Kind.Value, out var kind))
        {
            var suggestion = Suggest(s.Kind.Value, _connectors.Sources.Keys);
            Error(DefinitionErrorCodes.NotAvailable, $"source {s.Name}: unknown kind '{s.Kind.Value}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}; kinds: {string.Join(", ", _connectors.Sources.Keys)}", s.Kind.Location);
            return;
        }
        int before = _errors.Count;
        var exact = kind.Options.Where(o => !o.Prefix).ToDictionary(o => o.Key, StringComparer.Ordinal);
        var misspelt = new HashSet<string>(StringComparer.Ordinal); // keys an unknown key was taken for: not reported missing too
        foreach (var (key, value) in s.Options)
        {
            if (exact.TryGetValue(key, out var option))
            {
                CheckOptionValue(s, option, value);
                continue;
            }
            if (kind.Options.Any(o => o.Prefix && key.StartsWith(o.Key, StringComparison.Ordinal) && key.Length > o.Key.Length)) continue;
            var suggestion = Suggest(key, exact.Keys);
            if (suggestion is not null) misspelt.Add(suggestion);
            Error(DefinitionErrorCodes.UnknownKey, $"source {s.Name}: unknown key '{key}' for a {kind.Name} source{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} (keys: {string.Join(", ", kind.Options.Select(o => o.Prefix ? o.Key + "*" : o.Key))})", value.Location);
        }
        foreach (var missing in kind.Options.Where(o => o.Required && !o.Prefix && !s.Options.ContainsKey(o.Key) && !misspelt.Contains(o.Key)))
            Error(DefinitionErrorCodes.MissingKey, $"source {s.Name}: a {kind.Name} source needs {missing.Key}: {missing.Description}", s.Location);
        // What reading needs beyond the table, for sources that a resolver reads (one only written to needs less).
        if (_errors.Count == before && _set.Resolvers.Any(r => r.Source?.Value == s.Name))
            kind.Validate(s, new SourceDiagnostics((code, message, at) => Error(code, $"source {s.Name}: {message}", at)));
    }

    private void CheckOptionValue(SourceDef s, SourceOption option, Located<string> value)
    {
        switch (option.Type)
        {
            case SourceOptionType.Duration when Durations.TryParse(value.Value) is null:
                Error(DefinitionErrorCodes.InvalidDuration, $"source {s.Name}: {option.Key} '{value.Value}' is not a duration (e.g. 30s, 15m, 1h, 7d)", value.Location);
                break;
            case SourceOptionType.Integer when !long.TryParse(value.Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _):
                Error(DefinitionErrorCodes.InvalidOptionValue, $"source {s.Name}: {option.Key} '{value.Value}' is not a whole number", value.Location);
                break;
            case SourceOptionType.Choice when !option.Values.Contains(value.Value, StringComparer.OrdinalIgnoreCase):
                var suggestion = Suggest(value.Value, option.Values);
                Error(DefinitionErrorCodes.InvalidOptionValue,
                    $"source {s.Name}: {option.Key} '{value.Value}' is not one of {string.Join(", ", option.Values)}{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}", value.Location);
                break;
        }
    }

    // ---- feature classes ----

    private static string Snake(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    private FeatureClassPlan? CompileClass(FeatureClassDef c)
    {
        var ns = Snake(c.Name);
        TimeSpan? staleness = null;
        if (c.MaxStaleness is { } ms && (staleness = Durations.TryParse(ms.Value)) is null)
            Error(DefinitionErrorCodes.InvalidDuration, $"feature class {c.Name}: max_staleness '{ms.Value}' is not a duration (e.g. 30d)", ms.Location);
        var primaries = c.Features.Where(f => f.Primary).ToList();
        if (primaries.Count != 1)
            Error(DefinitionErrorCodes.BadFeatureClass,
                primaries.Count == 0 ? $"feature class {c.Name} has no primary key; mark one feature {{type: int64, primary: true}}"
                                     : $"feature class {c.Name} has {primaries.Count} primary keys; mark exactly one", c.Location);
        if (c.Features.Count(f => f.FeatureTime) > 1)
            Error(DefinitionErrorCodes.BadFeatureClass, $"feature class {c.Name} marks more than one feature_time feature", c.Location);

        var plain = new List<FeaturePlan>();
        var types = new Dictionary<string, DataType>(StringComparer.Ordinal);
        foreach (var f in c.Features)
        {
            var t = FieldType(f.Type, $"{c.Name}.{f.Name}");
            if (t is null) continue;
            types[f.Name] = t;
            if (f.FeatureTime && t.Kind != TypeKind.Timestamp)
                Error(DefinitionErrorCodes.BadFeatureClass, $"feature_time feature {c.Name}.{f.Name} must be a timestamp, not {t}", f.Location);
            if (f.Primary && (t.IsNullable || t.Kind is not (TypeKind.Int64 or TypeKind.String or TypeKind.Bytes)))
                Error(DefinitionErrorCodes.BadFeatureClass, $"primary key {c.Name}.{f.Name} must be a non-nullable int64, string or bytes, not {t}", f.Location);
        }
        // Derived features read the other features of the class: _ is the row of plain features.
        var row = DataType.StructOf(c.Name, c.Features.Where(f => f.Expression is null && types.ContainsKey(f.Name)).Select(f => new StructField(f.Name, types[f.Name])));
        var features = new List<FeaturePlan>();
        foreach (var f in c.Features)
        {
            if (!types.TryGetValue(f.Name, out var t)) continue;
            CompiledExpression? derived = null;
            if (f.Expression is { } e)
                derived = CheckExpression(e, row, t, null, $"{ns}.{f.Name}");
            features.Add(new FeaturePlan($"{ns}.{f.Name}", f.Name, t, f.Primary, f.FeatureTime) { Derived = derived });
        }
        return primaries.Count == 1 ? new FeatureClassPlan(c.Name, ns, features, staleness) : null;
    }

    // ---- expressions ----

    /// <summary>Checks an expression; maps its diagnostics to file:line:col; checks the result fits <paramref name="target"/>.</summary>
    private CompiledExpression? CheckExpression(Located<string> e, DataType root, DataType? target, string? resolver, string? feature)
    {
        var ir = Expression.Check(e.Value, root, this, out var diagnostics);
        if (ir is null)
        {
            foreach (var d in diagnostics)
            {
                var (line, col, _) = Diagnostic.Locate(e.Value, d.Span.Start);
                var at = line == 1 ? e.Location.Offset(col - 1) : e.Location with { Line = e.Location.Line + line - 1, Column = col };
                Error(d.Code, d.Message, at, resolver, feature);
            }
            return null;
        }
        if (target is not null && !TypeRules.Converts(ir.Type, target))
        {
            var hint = ir.Type.IsNumeric && target.Kind == TypeKind.Timestamp ? "; wrap it in F.from_unix_seconds (or F.from_unix_milliseconds)"
                : target.Kind == TypeKind.String ? "; convert it with F.cast(x, string)" : "; convert it with F.cast";
            Error(DefinitionErrorCodes.FeatureTypeMismatch,
                $"feature '{feature}' expects {target} but the expression yields {ir.Type}{hint}", e.Location, resolver, feature);
            return null;
        }
        // Nullability is checked per message at run time; an int64 feeding a float64 feature is widened here, once,
        // so that the projection yields the feature's column type.
        if (target is not null && (ir.Type.Kind, target.Kind) is (TypeKind.Int64, TypeKind.Float64) or (TypeKind.Enum, TypeKind.Int64))
            ir = TypeRules.Coerce(ir, target);
        return Expression.Compile(ir);
    }

    // ---- resolvers ----

    private ResolverPlan? CompileResolver(ResolverDef r, Dictionary<string, FeatureClassPlan> classes, Dictionary<string, SourceDef> sources)
    {
        int errorsBefore = _errors.Count;
        SourceDef? source = null;
        if (r.Source is { } src && !sources.TryGetValue(src.Value, out source))
        {
            var s = Suggest(src.Value, sources.Keys);
            Error(DefinitionErrorCodes.UnknownSource, $"unknown source '{src.Value}'{(s is null ? "" : $"; did you mean '{s}'?")} (sources: {string.Join(", ", sources.Keys)})", src.Location, r.Name);
        }

        DataType? message = null;
        ProtoMessage? protobuf = null;
        if (r.MessageType is { } mt)
        {
            message = mt.Value switch
            {
                "string" or "str" => DataType.String,
                "bytes" => DataType.Bytes,
                _ when _messageDefs.ContainsKey(mt.Value) => MessageType(mt.Value, mt.Location),
                _ => null,
            };
            if (message is null && !_messageDefs.ContainsKey(mt.Value))
            {
                protobuf = _protos.Message(mt.Value, out var protoError);
                message = protobuf?.Type;
                if (protobuf is null && _protos.Candidates(mt.Value).Count > 0)
                    Error(protoError!.Contains("contains itself", StringComparison.Ordinal) ? DefinitionErrorCodes.RecursiveType : DefinitionErrorCodes.UnsupportedFieldType,
                        protoError, mt.Location, r.Name);
                else if (protobuf is null)
                {
                    var known = _messageDefs.Keys.Concat(_protos.MessageNames).ToList();
                    var s = Suggest(mt.Value, known);
                    Error(DefinitionErrorCodes.UnknownMessageType,
                        $"unknown message type '{mt.Value}'{(s is null ? "" : $"; did you mean '{s}'?")} (declared: {string.Join(", ", known.Append("string").Append("bytes"))})", mt.Location, r.Name);
                }
            }
        }

        var root = message;
        if (r.IncludeMessageEnvelope && message is not null)
        {
            if (message.Kind != TypeKind.Struct)
                Error(DefinitionErrorCodes.NotAvailable, "include_message_envelope needs a struct message type (the envelope is the field _.__envelope__)", r.Location, r.Name);
            else root = DataType.StructOf(message.Name!, message.Fields.Append(new StructField("__envelope__", Envelope)));
        }

        CompiledExpression? parse = null;
        if (r.Parse is { } p && message is not null)
        {
            parse = CheckExpression(p, DataType.Bytes, null, r.Name, null);
            if (parse is not null && !TypeRules.Converts(parse.Type, message))
            {
                Error(DefinitionErrorCodes.ParseTypeMismatch, $"the parse expression yields {parse.Type} but message_type is {message}; it must yield the message type or None", p.Location, r.Name);
                parse = null;
            }
        }

        // Output features: one class, its primary key included, no derived features.
        FeatureClassPlan? cls = null;
        var outputs = new List<OutputPlan>();
        foreach (var o in r.OutputFeatures)
        {
            int dot = o.Feature.Value.IndexOf('.', StringComparison.Ordinal);
            var className = dot < 0 ? o.Feature.Value : o.Feature.Value[..dot];
            var featureName = dot < 0 ? "" : o.Feature.Value[(dot + 1)..];
            if (!classes.TryGetValue(className, out var c))
            {
                if (!_set.FeatureClasses.Any(x => x.Name == className))
                    Error(DefinitionErrorCodes.UnknownFeature, $"unknown feature class '{className}' in '{o.Feature.Value}'; write Class.feature", o.Feature.Location, r.Name, o.Feature.Value);
                continue;
            }
            var f = FeatureNamed(c, featureName);
            if (f is null)
            {
                var s = Suggest(featureName, c.Features.Select(x => x.Name));
                Error(DefinitionErrorCodes.UnknownFeature,
                    $"feature class {c.Name} declares no feature '{featureName}'{(s is null ? "" : $"; did you mean '{s}'?")}; declare it under features: {c.Name}", o.Feature.Location, r.Name, o.Feature.Value);
                continue;
            }
            if (cls is not null && cls != c)
            {
                Error(DefinitionErrorCodes.BadOutputFeatures, $"a resolver writes one feature class; this one writes {cls.Name} and {c.Name}", o.Feature.Location, r.Name, f.Fqn);
                continue;
            }
            cls = c;
            if (f.Derived is not null)
            {
                Error(DefinitionErrorCodes.BadOutputFeatures, $"{f.Fqn} is derived from other features; it cannot also be mapped from the message", o.Feature.Location, r.Name, f.Fqn);
                continue;
            }
            if (root is null) continue;
            if (CheckExpression(o.Expression, root, f.Type, r.Name, f.Fqn) is { } e) outputs.Add(new OutputPlan(f, e));
        }
        // A class without a (well-typed) primary key was reported where it is declared.
        if (cls?.Features.FirstOrDefault(f => f.Primary) is { } primary && !r.OutputFeatures.Any(o => o.Feature.Value == $"{cls.Name}.{primary.Name}"))
            Error(DefinitionErrorCodes.BadOutputFeatures, $"the resolver does not map the primary key {cls.Name}.{primary.Name}; every written row needs it", r.Location, r.Name);

        CompiledExpression? dedupKey = null;
        TimeSpan? window = null;
        if (r.Deduplication is { } d && root is not null)
        {
            dedupKey = CheckExpression(d.On, root, null, r.Name, null);
            if (dedupKey is not null && dedupKey.Type.Kind is TypeKind.List or TypeKind.Struct)
                Error(DefinitionErrorCodes.BadDeduplicationKey, $"the deduplication key is {dedupKey.Type}; use a scalar such as _.id or F.concat(_.a, \"-\", _.b)", d.On.Location, r.Name);
            if ((window = Durations.TryParse(d.Within.Value)) is null)
                Error(DefinitionErrorCodes.InvalidDuration, $"within '{d.Within.Value}' is not a duration (e.g. 24h, 7d)", d.Within.Location, r.Name);
        }

        SinkPlan? sink = null;
        if (r.Sink is { } sk)
        {
            if (!sources.TryGetValue(sk.SendTo.Value, out var target))
                Error(DefinitionErrorCodes.UnknownSinkTarget, $"sink send_to '{sk.SendTo.Value}' is not a declared source (sources: {string.Join(", ", sources.Keys)})", sk.SendTo.Location, r.Name);
            else if (_connectors.Sources.ContainsKey(target.Kind.Value))
            {
                if (!_connectors.Targets.TryGetValue(target.Kind.Value, out var writer))
                    Error(DefinitionErrorCodes.UnwritableTarget, $"sink send_to '{sk.SendTo.Value}': nothing writes to a {target.Kind.Value} source (sinks write to {string.Join(", ", _connectors.Targets.Keys)})", sk.SendTo.Location, r.Name);
                else writer.Validate(target, new SourceDiagnostics((code, message, _) => Error(code, $"sink send_to '{sk.SendTo.Value}': {message}", sk.SendTo.Location, r.Name)));
            }
            if (sk.Format.Value is not ("json" or "ipc_stream"))
                Error(DefinitionErrorCodes.WrongShape, $"sink format '{sk.Format.Value}' is not one of json, ipc_stream", sk.Format.Location, r.Name);
            sink = new SinkPlan(sk.SendTo.Value, sk.OutputFeatures.Select(f => f.Value).ToList(), sk.Format.Value);
        }

        if (_errors.Count != errorsBefore || source is null || message is null || cls is null) return null;
        return new ResolverPlan
        {
            Name = r.Name,
            Source = source,
            MessageType = message,
            Parse = parse,
            Class = cls,
            Outputs = outputs,
            HeaderFilters = r.HeaderFilters.Select(h => new HeaderFilterPlan(h.Name.Value, h.Values)).ToList(),
            DeduplicationKey = dedupKey,
            DeduplicationWindow = window,
            Sink = sink,
            SkipOnline = r.SkipOnline,
            SkipOffline = r.SkipOffline,
            Environments = r.Environments,
            IncludeMessageEnvelope = r.IncludeMessageEnvelope,
            Protobuf = protobuf,
        };
    }

    /// <summary>Every sink feature must be written by some resolver or derived in a class some resolver writes.</summary>
    private void CheckSinks(List<FeatureClassPlan> classes)
    {
        // Written as Class.feature or namespace.feature.
        var classNamed = new Dictionary<string, FeatureClassPlan>(StringComparer.Ordinal);
        foreach (var c in classes) classNamed.TryAdd(c.Name, c);
        foreach (var c in classes) classNamed.TryAdd(c.Namespace, c);
        string? Fqn(string written)
        {
            int dot = written.IndexOf('.', StringComparison.Ordinal);
            return dot >= 0 && classNamed.TryGetValue(written[..dot], out var c) ? $"{c.Namespace}.{written[(dot + 1)..]}" : null;
        }

        // What the resolvers declare they write counts, a resolver with errors of its own included (it has no plan), so
        // that its one mistake is not followed by false ones about the features it would produce.
        var produced = new HashSet<string>(StringComparer.Ordinal);
        var written = new HashSet<FeatureClassPlan>(ReferenceEqualityComparer.Instance);
        foreach (var declared in _set.Resolvers.SelectMany(r => r.OutputFeatures))
        {
            int dot = declared.Feature.Value.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0 || !classNamed.TryGetValue(declared.Feature.Value[..dot], out var c)) continue;
            produced.Add($"{c.Namespace}.{declared.Feature.Value[(dot + 1)..]}");
            written.Add(c);
        }
        foreach (var f in written.SelectMany(c => c.Features).Where(f => f.Derived is not null)) produced.Add(f.Fqn);
        foreach (var computed in _set.ComputedFeatures)
            if (Fqn(computed) is { } fqn) produced.Add(fqn);

        foreach (var r in _set.Resolvers)
        {
            if (r.Sink is null) continue;
            foreach (var f in r.Sink.OutputFeatures)
            {
                if (Fqn(f.Value) is not { } fqn || !produced.Contains(fqn))
                    Error(DefinitionErrorCodes.SinkFeatureNotProduced,
                        $"sink feature '{f.Value}' is not produced by any resolver (map it in output_features, or declare it derived)", f.Location, r.Name, f.Value);
            }
        }
    }

    // Per class, its features by name: a resolver of a wide class looks up each of its outputs.
    private readonly Dictionary<FeatureClassPlan, Dictionary<string, FeaturePlan>> _featuresByName = new(ReferenceEqualityComparer.Instance);

    private FeaturePlan? FeatureNamed(FeatureClassPlan c, string name)
    {
        if (!_featuresByName.TryGetValue(c, out var byName))
            _featuresByName[c] = byName = c.Features.DistinctBy(f => f.Name, StringComparer.Ordinal).ToDictionary(f => f.Name, StringComparer.Ordinal);
        return byName.GetValueOrDefault(name);
    }

    private static string? Suggest(string name, IEnumerable<string> candidates) => Sluice.Kernels.Expressions.Suggest.Closest(name, candidates);
}
