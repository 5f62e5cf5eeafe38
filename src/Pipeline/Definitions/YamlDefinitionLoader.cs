using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Sluice.Pipeline.Definitions;

/// <summary>
/// Reads a <c>sluice.yaml</c> (DESIGN.md section 3) into a <see cref="DefinitionSet"/>, keeping the file:line:col of
/// every value, expanding <c>${VAR}</c> and <c>${VAR:-default}</c> from the environment, and reporting every
/// structural error of the file at once. Types and expressions are checked later by the compiler.
/// </summary>
internal sealed partial class YamlDefinitionLoader
{
    private static readonly string[] TopKeys = ["features", "messages", "protos", "sources", "resolvers"];
    private static readonly string[] ResolverKeys =
        ["source", "message_type", "output_features", "parse", "message_header_filters", "deduplication", "sink",
         "skip_online", "skip_offline", "environments", "include_message_envelope"];
    private static readonly string[] FeatureKeys = ["type", "primary", "feature_time", "expression"];
    private static readonly string[] ClassOptions = ["max_staleness"];
    private static readonly string[] DeduplicationKeys = ["on", "within"];
    private static readonly string[] SinkKeys = ["send_to", "output_features", "format"];

    /// <summary>Every key the file takes outside a source (whose keys its kind declares), for docs/configuration.md.</summary>
    internal static IReadOnlyList<string> Keys { get; } =
        [.. TopKeys, "max_staleness", .. FeatureKeys, "kind", .. ResolverKeys, .. DeduplicationKeys, .. SinkKeys];

    private readonly string _file;
    private readonly Func<string, string?> _environment;
    private readonly List<DefinitionDiagnostic> _errors = [];

    private YamlDefinitionLoader(string file, Func<string, string?> environment)
    {
        _file = file;
        _environment = environment;
    }

    /// <summary>
    /// Loads definitions from YAML text; <paramref name="file"/> names it in locations. The set comes back even when
    /// some entries had errors (those entries are left out or partial), so that the compiler can report its own errors
    /// of the same file too; it is null only when the text is not YAML at all.
    /// </summary>
    public static DefinitionSet? Load(string text, string file, out IReadOnlyList<DefinitionDiagnostic> errors,
        Func<string, string?>? environment = null)
    {
        var loader = new YamlDefinitionLoader(file, environment ?? Environment.GetEnvironmentVariable);
        var set = loader.Read(text);
        errors = loader._errors;
        return set;
    }

    private SourceLocation At(YamlNode n) => new(_file, (int)n.Start.Line, (int)n.Start.Column);

    private void Error(string code, string message, SourceLocation at, string? resolver = null, string? feature = null) =>
        _errors.Add(new DefinitionDiagnostic(code, message, at, resolver, feature));

    private DefinitionSet? Read(string text)
    {
        var stream = new YamlStream();
        var parser = new OpenCollections(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            Error(DefinitionErrorCodes.YamlSyntax, $"not valid YAML: {e.InnerException?.Message ?? e.Message}", new SourceLocation(_file, (int)e.Start.Line, (int)e.Start.Column));
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet fails this way (not with a YamlException) on some broken texts: one that ends inside a flow
            // collection, or an entry without a key. Said at the open collection, else where the reader stopped.
            var (message, at) = parser.InnermostFlow is var (open, opened) && e is InvalidOperationException
                ? ($"not valid YAML: the '{open}' opened here is never closed with '{(open == '{' ? '}' : ']')}'", opened)
                : ($"not valid YAML: the reader cannot go on here ({e.Message.Split(" (Parameter", 2)[0]})", parser.Current?.Start ?? Mark.Empty);
            Error(DefinitionErrorCodes.YamlSyntax, message, new SourceLocation(_file, Math.Max(1, (int)at.Line), Math.Max(1, (int)at.Column)));
            return null;
        }
        if (stream.Documents.Count > 1)
        {
            Error(DefinitionErrorCodes.YamlSyntax, "not valid here: the file holds more than one YAML document ('---'); definitions are one document",
                At(stream.Documents[1].RootNode));
            return null;
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            Error(DefinitionErrorCodes.WrongShape, "the file must be a mapping with features, messages, sources and resolvers", new SourceLocation(_file, 1, 1));
            return null;
        }
        var features = new List<FeatureClassDef>();
        var messages = new List<MessageDef>();
        var protos = new List<Located<string>>();
        var sources = new List<SourceDef>();
        var resolvers = new List<ResolverDef>();
        foreach (var (key, value) in Entries(root, TopKeys, "the top level"))
        {
            switch (key.Value)
            {
                case "features": foreach (var (k, v) in Entries(value, null, "features")) if (ReadClass(k, v) is { } c) features.Add(c); break;
                case "messages": foreach (var (k, v) in Entries(value, null, "messages")) if (ReadMessage(k, v) is { } m) messages.Add(m); break;
                case "protos": protos.AddRange(Strings(value, "protos")); break;
                case "sources": foreach (var (k, v) in Entries(value, null, "sources")) if (ReadSource(k, v) is { } s) sources.Add(s); break;
                case "resolvers": foreach (var (k, v) in Entries(value, null, "resolvers")) if (ReadResolver(k, v) is { } r) resolvers.Add(r); break;
            }
        }
        return new DefinitionSet(_file, features, messages, protos, sources, resolvers);
    }

    /// <summary>The entries of a mapping; keys outside <paramref name="known"/> (when given) are errors.</summary>
    private IEnumerable<(YamlScalarNode Key, YamlNode Value)> Entries(YamlNode node, string[]? known, string where, string? resolver = null)
    {
        if (node is not YamlMappingNode map)
        {
            if (!(node is YamlScalarNode { Value: null or "" or "~" }))
                Error(DefinitionErrorCodes.WrongShape, $"{where} must be a mapping of name: value", At(node), resolver);
            yield break;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode key || key.Value is null)
            {
                Error(DefinitionErrorCodes.WrongShape, $"keys in {where} must be plain names", At(k), resolver);
                continue;
            }
            if (!seen.Add(key.Value))
            {
                Error(DefinitionErrorCodes.DuplicateName, $"'{key.Value}' appears twice in {where}", At(key), resolver);
                continue;
            }
            if (known is not null && !known.Contains(key.Value))
            {
                Error(DefinitionErrorCodes.UnknownKey, $"unknown key '{key.Value}' in {where}; known keys: {string.Join(", ", known)}", At(key), resolver);
                continue;
            }
            yield return (key, v);
        }
    }

    private Located<string>? Scalar(YamlNode node, string what, string? resolver = null)
    {
        if (node is not YamlScalarNode s || s.Value is null)
        {
            Error(DefinitionErrorCodes.WrongShape, $"{what} must be a single value", At(node), resolver);
            return null;
        }
        var value = Expand(s.Value, At(s), resolver);
        // Columns of a quoted scalar start after its quote.
        var at = s.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted ? At(s).Offset(1) : At(s);
        return value is null ? null : new Located<string>(value, at);
    }

    private bool Bool(YamlNode node, string what, string? resolver)
    {
        var s = Scalar(node, what, resolver);
        if (s is null) return false;
        if (s.Value is "true" or "True" or "yes") return true;
        if (s.Value is "false" or "False" or "no") return false;
        Error(DefinitionErrorCodes.WrongShape, $"{what} must be true or false, not '{s.Value}'", s.Location, resolver);
        return false;
    }

    private List<Located<string>> Strings(YamlNode node, string what, string? resolver = null)
    {
        var result = new List<Located<string>>();
        if (node is not YamlSequenceNode seq)
        {
            Error(DefinitionErrorCodes.WrongShape, $"{what} must be a list", At(node), resolver);
            return result;
        }
        foreach (var item in seq) if (Scalar(item, $"an item of {what}", resolver) is { } s) result.Add(s);
        return result;
    }

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")]
    private static partial Regex VariablePattern();

    private string? Expand(string value, SourceLocation at, string? resolver)
    {
        if (!value.Contains("${", StringComparison.Ordinal)) return value;
        bool ok = true;
        var result = VariablePattern().Replace(value, m =>
        {
            var v = _environment(m.Groups[1].Value);
            if (!string.IsNullOrEmpty(v)) return v;
            if (m.Groups[2].Success) return m.Groups[2].Value;
            Error(DefinitionErrorCodes.UnsetVariable, $"environment variable {m.Groups[1].Value} is not set (write ${{{m.Groups[1].Value}:-default}} for a default)", at, resolver);
            ok = false;
            return "";
        });
        return ok ? result : null;
    }

    private FeatureClassDef? ReadClass(YamlScalarNode name, YamlNode node)
    {
        var features = new List<FeatureDef>();
        Located<string>? maxStaleness = null;
        foreach (var (key, value) in Entries(node, null, $"feature class {name.Value}"))
        {
            if (key.Value == "max_staleness") { maxStaleness = Scalar(value, "max_staleness"); continue; }
            if (key.Value == "etl_offline_to_online")
            {
                Error(DefinitionErrorCodes.NotAvailable, "etl_offline_to_online is not supported: Sluice writes the online store from the stream itself", At(key));
                continue;
            }
            // A misspelt class option (max_stalenes: 7d) reads as a feature whose type is a duration: said as what it is.
            if (value is YamlScalarNode { Value: { } written } && Sluice.Kernels.Expressions.Suggest.Closest(key.Value!, ClassOptions) is { } option
                && Compilation.Durations.TryParse(written) is not null)
            {
                Error(DefinitionErrorCodes.UnknownKey, $"feature class {name.Value}: unknown option '{key.Value}'; did you mean '{option}'?", At(key));
                continue;
            }
            if (value is YamlScalarNode)
            {
                if (Scalar(value, $"the type of {name.Value}.{key.Value}") is { } t)
                    features.Add(new FeatureDef(key.Value!, t, false, false, null, At(key)));
                continue;
            }
            Located<string>? type = null, expression = null;
            bool primary = false, featureTime = false;
            foreach (var (k, v) in Entries(value, FeatureKeys, $"feature {name.Value}.{key.Value}"))
            {
                switch (k.Value)
                {
                    case "type": type = Scalar(v, "type"); break;
                    case "primary": primary = Bool(v, "primary", null); break;
                    case "feature_time": featureTime = Bool(v, "feature_time", null); break;
                    case "expression": expression = Scalar(v, "expression"); break;
                }
            }
            if (type is null)
            {
                Error(DefinitionErrorCodes.MissingKey, $"feature {name.Value}.{key.Value} needs a type (e.g. {{type: int64, primary: true}})", At(key));
                continue;
            }
            features.Add(new FeatureDef(key.Value!, type, primary, featureTime, expression, At(key)));
        }
        return new FeatureClassDef(name.Value!, features, maxStaleness, At(name));
    }

    private MessageDef? ReadMessage(YamlScalarNode name, YamlNode node)
    {
        var fields = new List<(string, Located<string>)>();
        foreach (var (key, value) in Entries(node, null, $"message {name.Value}"))
            if (Scalar(value, $"the type of {name.Value}.{key.Value}") is { } t) fields.Add((key.Value!, t));
        return new MessageDef(name.Value!, fields, At(name));
    }

    private SourceDef? ReadSource(YamlScalarNode name, YamlNode node)
    {
        Located<string>? kind = null;
        var options = new Dictionary<string, Located<string>>(StringComparer.Ordinal);
        foreach (var (key, value) in Entries(node, null, $"source {name.Value}"))
        {
            if (key.Value == "kind") kind = Scalar(value, "kind");
            else if (key.Value == "additional_kafka_args" && value is YamlMappingNode args)
                foreach (var (k, v) in Entries(args, null, "additional_kafka_args"))
                {
                    if (Scalar(v, k.Value!) is { } s) options["additional_kafka_args." + k.Value] = s;
                }
            else if (Scalar(value, key.Value!) is { } s) options[key.Value!] = s;
        }
        if (kind is null)
        {
            Error(DefinitionErrorCodes.MissingKey, $"source {name.Value} needs a kind (kafka, recording, pubsub, kinesis)", At(name));
            return null;
        }
        return new SourceDef(name.Value!, kind, options, At(name));
    }

    private ResolverDef? ReadResolver(YamlScalarNode name, YamlNode node)
    {
        string r = name.Value!;
        Located<string>? source = null, messageType = null, parse = null;
        var outputs = new List<OutputFeatureDef>();
        var filters = new List<HeaderFilterDef>();
        DeduplicationDef? dedup = null;
        SinkDef? sink = null;
        bool skipOnline = false, skipOffline = false, envelope = false;
        List<string>? environments = null;
        foreach (var (key, value) in Entries(node, ResolverKeys, $"resolver {r}", r))
        {
            switch (key.Value)
            {
                case "source": source = Scalar(value, "source", r); break;
                case "message_type": messageType = Scalar(value, "message_type", r); break;
                case "parse": parse = Scalar(value, "parse", r); break;
                case "skip_online": skipOnline = Bool(value, "skip_online", r); break;
                case "skip_offline": skipOffline = Bool(value, "skip_offline", r); break;
                case "include_message_envelope": envelope = Bool(value, "include_message_envelope", r); break;
                case "environments": environments = Strings(value, "environments", r).Select(s => s.Value).ToList(); break;
                case "output_features":
                    foreach (var (f, e) in Entries(value, null, "output_features", r))
                        if (Scalar(e, $"the expression of {f.Value}", r) is { } expr)
                            outputs.Add(new OutputFeatureDef(new Located<string>(f.Value!, At(f)), expr));
                    break;
                case "message_header_filters":
                    if (value is not YamlSequenceNode list) { Error(DefinitionErrorCodes.WrongShape, "message_header_filters must be a list of [header, value, ...]", At(value), r); break; }
                    foreach (var item in list)
                    {
                        var parts = Strings(item, "a header filter", r);
                        if (parts.Count == 0) continue;
                        if (parts.Count == 1)
                            Error(DefinitionErrorCodes.HeaderFilterWithoutValues, $"header filter '{parts[0].Value}' lists no values; write [{parts[0].Value}, value]", At(item), r);
                        filters.Add(new HeaderFilterDef(parts[0], parts.Skip(1).Select(p => Encoding.UTF8.GetBytes(p.Value)).ToList(), At(item)));
                    }
                    break;
                case "deduplication":
                {
                    Located<string>? on = null, within = null;
                    foreach (var (k, v) in Entries(value, DeduplicationKeys, "deduplication", r))
                        if (k.Value == "on") on = Scalar(v, "on", r); else within = Scalar(v, "within", r);
                    if (on is null || within is null)
                        Error(DefinitionErrorCodes.MissingKey, "deduplication needs both on (an expression) and within (a duration such as 24h)", At(value), r);
                    else dedup = new DeduplicationDef(on, within, At(value));
                    break;
                }
                case "sink":
                {
                    Located<string>? sendTo = null, format = null;
                    var feats = new List<Located<string>>();
                    foreach (var (k, v) in Entries(value, SinkKeys, "sink", r))
                        switch (k.Value)
                        {
                            case "send_to": sendTo = Scalar(v, "send_to", r); break;
                            case "format": format = Scalar(v, "format", r); break;
                            default: feats = Strings(v, "sink output_features", r); break;
                        }
                    if (sendTo is null) Error(DefinitionErrorCodes.MissingKey, "sink needs send_to (a declared source)", At(value), r);
                    else sink = new SinkDef(sendTo, feats, format ?? new Located<string>("ipc_stream", At(value)), At(value));
                    break;
                }
            }
        }
        if (source is null) Error(DefinitionErrorCodes.MissingKey, "resolver needs a source", At(name), r);
        if (messageType is null) Error(DefinitionErrorCodes.MissingKey, "resolver needs a message_type", At(name), r);
        if (outputs.Count == 0) Error(DefinitionErrorCodes.MissingKey, "resolver needs output_features (Class.feature: expression)", At(name), r);
        return new ResolverDef(r, source, messageType, outputs, parse, filters, dedup, sink, skipOnline, skipOffline, environments, envelope, At(name));
    }

    /// <summary>A parser that remembers which collections are open, to say which flow collection a truncated text left open.</summary>
    private sealed class OpenCollections(IParser inner) : IParser
    {
        private readonly Stack<(char Flow, Mark At)> _open = new();

        public ParsingEvent? Current => inner.Current;

        /// <summary>The innermost open <c>{</c> or <c>[</c> and where it opened, if any.</summary>
        public (char Open, Mark At)? InnermostFlow => _open.Where(c => c.Flow != ' ').Cast<(char, Mark)?>().FirstOrDefault();

        public bool MoveNext()
        {
            if (!inner.MoveNext()) return false;
            switch (inner.Current)
            {
                case MappingStart m: _open.Push((m.Style == MappingStyle.Flow ? '{' : ' ', m.Start)); break;
                case SequenceStart q: _open.Push((q.Style == SequenceStyle.Flow ? '[' : ' ', q.Start)); break;
                case MappingEnd or SequenceEnd when _open.Count > 0: _open.Pop(); break;
            }
            return true;
        }
    }
}
