using System.Reflection;
using Google.Protobuf.Reflection;
using ProtoBuf.Meta;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;

namespace Sluice.Pipeline.Definitions;

/// <summary>
/// The protobuf messages and enums of a set of <c>.proto</c> files (read with protobuf-net.Reflection, imports
/// resolved relative to the importing definition file), as parse-kernel schemas and Sluice types. Names resolve by
/// full name (<c>acme.User</c>, <c>acme.User.UserType</c>) or by any unambiguous dotted suffix (<c>User</c>, <c>User.UserType</c>).
/// </summary>
public sealed class ProtoCatalog
{
    private readonly Dictionary<string, DescriptorProto> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, EnumDescriptorProto> _enums = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _proto3 = new(StringComparer.Ordinal); // message full name -> proto3 syntax
    private readonly Dictionary<string, ProtoMessage?> _built = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DataType> _enumTypes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _building = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<int, bool?>> _presence = new(StringComparer.Ordinal);

    /// <summary>An empty catalog (no <c>protos:</c>).</summary>
    internal static ProtoCatalog Empty { get; } = new();

    /// <summary>Full names of every message, in declaration order of the files.</summary>
    internal IReadOnlyList<string> MessageNames => _messages.Keys.Where(n => !n.StartsWith("google.protobuf.", StringComparison.Ordinal)).ToList();

    /// <summary>
    /// Reads <paramref name="files"/> (paths relative to <paramref name="baseDirectory"/>); every error of every file is
    /// reported through <paramref name="error"/> with the file, line and column protobuf-net gives.
    /// </summary>
    internal static ProtoCatalog Load(IEnumerable<Located<string>> files, string baseDirectory, Action<string, SourceLocation> error)
    {
        var catalog = new ProtoCatalog();
        var set = new FileDescriptorSet();
        set.AddImportPath(baseDirectory);
        bool any = false;
        foreach (var f in files)
        {
            var full = Path.GetFullPath(Path.Combine(baseDirectory, f.Value));
            if (!File.Exists(full))
            {
                error($"proto file '{f.Value}' not found (looked for {full})", f.Location);
                continue;
            }
            var dir = Path.GetDirectoryName(full)!;
            set.AddImportPath(dir);
            set.Add(Path.GetRelativePath(dir, full), true, new StringReader(File.ReadAllText(full)));
            any = true;
        }
        if (!any) return catalog;
        set.Process();
        bool failed = false;
        foreach (var e in set.GetErrors())
        {
            if (!e.IsError) continue;
            failed = true;
            var file = set.Files.FirstOrDefault(x => x.Name == e.File) is { } fd ? Path.Combine(baseDirectory, ProtoPath(files, fd.Name)) : e.File;
            error($"{e.Message}{(string.IsNullOrWhiteSpace(e.Text) ? "" : $" (at '{e.Text.Trim()}')")}", new SourceLocation(file, e.LineNumber, e.ColumnNumber));
        }
        if (failed) return catalog;
        foreach (var file in set.Files) catalog.Add(file);
        return catalog;
    }

    private static string ProtoPath(IEnumerable<Located<string>> files, string name) =>
        files.FirstOrDefault(f => f.Value.EndsWith(name, StringComparison.Ordinal))?.Value ?? name;

    /// <summary>
    /// The schema of a protobuf-net contract type. Field presence follows the C# member: a <c>Nullable&lt;T&gt;</c>,
    /// a <c>string?</c> or <c>byte[]?</c> member is null when absent; others take the protobuf default.
    /// </summary>
    public static ProtoMessage FromContract(Type contract, RuntimeTypeModel? model = null)
    {
        var catalog = new ProtoCatalog();
        var name = catalog.AddContract(contract, model);
        return catalog.Message(name, out var error) ?? throw new ArgumentException(error);
    }

    /// <summary>Adds a protobuf-net contract type (and the types it uses) to this catalog; returns its message's full name.</summary>
    internal string AddContract(Type contract, RuntimeTypeModel? model = null)
    {
        if (ReferenceEquals(this, Empty)) throw new InvalidOperationException("the empty catalog is shared; add contracts to a new one");
        model ??= RuntimeTypeModel.Default;
        var proto = model.GetSchema(new SchemaGenerationOptions { Types = { contract }, Syntax = ProtoSyntax.Proto3 });
        var set = new FileDescriptorSet();
        set.Add($"{contract.FullName}.proto", true, new StringReader(proto));
        set.Process();
        if (set.GetErrors().FirstOrDefault(e => e.IsError) is { } err)
            throw new ArgumentException($"protobuf-net's schema of {contract.Name} does not parse: {err.Message}");
        foreach (var f in set.Files) Add(f);
        var nullability = new NullabilityInfoContext();
        foreach (var meta in model.GetTypes().OfType<MetaType>())
        {
            if (FullName(meta.GetSchemaTypeName()) is not { } full) continue;
            var members = meta.GetFields().ToDictionary(m => m.FieldNumber, m => m.Member);
            _presence[full] = number => members.TryGetValue(number, out var m) ? Presence(m, nullability) : null;
        }
        var name = model[contract].GetSchemaTypeName();
        return FullName(name) ?? name;
    }

    private static bool? Presence(MemberInfo member, NullabilityInfoContext context)
    {
        var (type, info) = member switch
        {
            PropertyInfo p => (p.PropertyType, context.Create(p)),
            FieldInfo f => (f.FieldType, context.Create(f)),
            _ => (null, null),
        };
        if (type is null) return null;
        if (Nullable.GetUnderlyingType(type) is not null) return true;
        if (type == typeof(string) || type == typeof(byte[])) return info!.ReadState == NullabilityState.Nullable;
        return null;
    }

    private void Add(FileDescriptorProto file)
    {
        var prefix = string.IsNullOrEmpty(file.Package) ? "" : file.Package + ".";
        bool proto3 = file.Syntax == "proto3";
        foreach (var m in file.MessageTypes) AddMessage(prefix + m.Name, m, proto3);
        foreach (var e in file.EnumTypes) _enums[prefix + e.Name] = e;
    }

    private void AddMessage(string fullName, DescriptorProto m, bool proto3)
    {
        _messages[fullName] = m;
        _proto3[fullName] = proto3;
        foreach (var n in m.NestedTypes) AddMessage(fullName + "." + n.Name, n, proto3);
        foreach (var e in m.EnumTypes) _enums[fullName + "." + e.Name] = e;
    }

    /// <summary>The full name of the message or enum that <paramref name="name"/> names, or null (unknown or ambiguous).</summary>
    internal string? FullName(string name)
    {
        if (_messages.ContainsKey(name) || _enums.ContainsKey(name)) return name;
        var matches = _messages.Keys.Concat(_enums.Keys).Where(k => k.EndsWith("." + name, StringComparison.Ordinal)).Distinct().Take(2).ToList();
        return matches.Count == 1 ? matches[0] : null;
    }

    /// <summary>Whether <paramref name="name"/> matches more than one message or enum by suffix.</summary>
    internal IReadOnlyList<string> Candidates(string name) =>
        _messages.Keys.Concat(_enums.Keys).Where(k => k == name || k.EndsWith("." + name, StringComparison.Ordinal)).ToList();

    /// <summary>The parse schema of a message, or null with the reason (unknown, ambiguous, recursive, unsupported field).</summary>
    internal ProtoMessage? Message(string name, out string? error)
    {
        error = null;
        var full = FullName(name);
        if (full is null || !_messages.ContainsKey(full))
        {
            var c = Candidates(name);
            error = c.Count > 1 ? $"'{name}' is ambiguous: {string.Join(", ", c)}; write the full name" : $"no protobuf message '{name}'";
            return null;
        }
        return Build(full, ref error);
    }

    /// <summary>The Sluice type of a message (a struct, or timestamp/scalar for well-known types) or enum, or null.</summary>
    internal DataType? Type(string name)
    {
        var full = FullName(name);
        if (full is null) return null;
        if (_enums.ContainsKey(full)) return EnumType(full);
        return Message(full, out _)?.Type;
    }

    private DataType EnumType(string full)
    {
        if (!_enumTypes.TryGetValue(full, out var t))
            _enumTypes[full] = t = DataType.EnumOf(full, _enums[full].Values.Select(v => new Sluice.Kernels.Types.EnumMember(v.Name, v.Number)));
        return t;
    }

    private ProtoMessage? Build(string full, ref string? error)
    {
        if (_built.TryGetValue(full, out var done))
        {
            if (done is null) error ??= $"message {full} cannot be read (see the error above)";
            return done;
        }
        if (!_building.Add(full))
        {
            error = $"message {full} contains itself; recursive messages have no fixed columns (extract the fields you need with a parse expression)";
            return null;
        }
        var fields = new List<ProtoField>();
        foreach (var f in _messages[full].Fields)
        {
            var field = Field(full, f, ref error);
            if (field is null) break;
            fields.Add(field);
        }
        ProtoMessage? result = null;
        if (error is null)
        {
            try { result = new ProtoMessage(full, fields, ProtoMessage.WellKnownOf(full)); }
            catch (ArgumentException e) { error = e.Message; }
        }
        _building.Remove(full);
        _built[full] = result;
        return result;
    }

    private ProtoField? Field(string message, FieldDescriptorProto f, ref string? error)
    {
        ProtoKind? kind = f.type switch
        {
            FieldDescriptorProto.Type.TypeDouble => ProtoKind.Double,
            FieldDescriptorProto.Type.TypeFloat => ProtoKind.Float,
            FieldDescriptorProto.Type.TypeInt64 => ProtoKind.Int64,
            FieldDescriptorProto.Type.TypeUint64 => ProtoKind.UInt64,
            FieldDescriptorProto.Type.TypeInt32 => ProtoKind.Int32,
            FieldDescriptorProto.Type.TypeFixed64 => ProtoKind.Fixed64,
            FieldDescriptorProto.Type.TypeFixed32 => ProtoKind.Fixed32,
            FieldDescriptorProto.Type.TypeBool => ProtoKind.Bool,
            FieldDescriptorProto.Type.TypeString => ProtoKind.String,
            FieldDescriptorProto.Type.TypeBytes => ProtoKind.Bytes,
            FieldDescriptorProto.Type.TypeUint32 => ProtoKind.UInt32,
            FieldDescriptorProto.Type.TypeEnum => ProtoKind.Enum,
            FieldDescriptorProto.Type.TypeSfixed32 => ProtoKind.SFixed32,
            FieldDescriptorProto.Type.TypeSfixed64 => ProtoKind.SFixed64,
            FieldDescriptorProto.Type.TypeSint32 => ProtoKind.SInt32,
            FieldDescriptorProto.Type.TypeSint64 => ProtoKind.SInt64,
            FieldDescriptorProto.Type.TypeMessage => ProtoKind.Message,
            _ => null,
        };
        if (kind is null)
        {
            error = $"{message}.{f.Name}: proto2 groups are not supported; declare the field as a message";
            return null;
        }
        bool repeated = f.label == FieldDescriptorProto.Label.LabelRepeated;
        _presence.TryGetValue(message, out var presence);
        bool hasPresence = !repeated && (presence?.Invoke(f.Number) ?? (f.Proto3Optional || f.ShouldSerializeOneofIndex() ||
            (!_proto3[message] && f.label == FieldDescriptorProto.Label.LabelOptional)));
        var typeName = f.TypeName.TrimStart('.');
        ProtoMessage? nested = null;
        DataType? enumType = null;
        if (kind == ProtoKind.Message)
        {
            if (!_messages.ContainsKey(typeName))
            {
                error = $"{message}.{f.Name}: unknown message type {typeName}";
                return null;
            }
            if ((nested = Build(typeName, ref error)) is null) return null;
        }
        else if (kind == ProtoKind.Enum)
        {
            if (!_enums.ContainsKey(typeName))
            {
                error = $"{message}.{f.Name}: unknown enum type {typeName}";
                return null;
            }
            enumType = EnumType(typeName);
        }
        return new ProtoField(f.Name, f.Number, kind.Value, repeated, hasPresence, nested, enumType);
    }
}
