using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice;

/// <summary>Marks a C# type as a feature class; its features are its public properties (FQN <c>snake_class.snake_property</c>).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct)]
public sealed class FeatureClassAttribute : Attribute
{
    /// <summary>How long an online value stays valid after it was written, e.g. <c>30d</c>, <c>12h</c>.</summary>
    public string? MaxStaleness { get; init; }
}

/// <summary>The primary-key feature of a feature class (a non-nullable <c>long</c>, <c>string</c> or <c>byte[]</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PrimaryKeyAttribute : Attribute;

/// <summary>The feature-time feature of a feature class (a <c>DateTime</c>); without one, the message timestamp is the feature time.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FeatureTimeAttribute : Attribute;

/// <summary>A derived feature: an expression over the other features of its class, e.g. <c>[Derived("_.price * _.qty")]</c>.</summary>
/// <param name="expression">The expression text (<c>_</c> is the row of the class's features).</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DerivedAttribute(string expression) : Attribute
{
    /// <summary>The expression text.</summary>
    public string Expression { get; } = expression;
}

/// <summary>CLR types as Sluice type texts, feature classes and JSON message types.</summary>
internal sealed class ClrSchemas(JsonNamingPolicy naming)
{
    private readonly NullabilityInfoContext _nullability = new();
    private readonly Dictionary<Type, string> _messageNames = [];

    /// <summary>protobuf-net contract types met so far (message types parsed from protobuf, not JSON).</summary>
    public HashSet<Type> ProtoContracts { get; } = [];

    /// <summary>The protobuf message name of a contract type, registering it.</summary>
    public string ProtoName(Type contract)
    {
        ProtoContracts.Add(contract);
        return new Sluice.Pipeline.Definitions.ProtoCatalog().AddContract(contract);
    }

    public static bool IsProtoContract(Type t) => t.GetCustomAttribute<ProtoBuf.ProtoContractAttribute>() is not null;

    /// <summary>Message types met so far, by their Sluice name, in the order they were first met.</summary>
    public List<(string Name, Type Type)> Messages { get; } = [];

    public JsonNamingPolicy Naming => naming;

    public static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    /// <summary>The JSON field name of a message property: <c>[JsonPropertyName]</c>, else the naming policy.</summary>
    public string FieldName(MemberInfo member) =>
        IsProtoContract(member.DeclaringType!) ? member.GetCustomAttribute<ProtoBuf.ProtoMemberAttribute>()?.Name ?? member.Name
        : member.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? naming.ConvertName(member.Name);

    public static IEnumerable<PropertyInfo> Properties(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .OrderBy(p => p.MetadataToken);

    /// <summary>The Sluice type text of a property, registering message types it names.</summary>
    public string TypeOf(PropertyInfo p) => TypeText(p.PropertyType, _nullability.Create(p));

    /// <summary>The Sluice type text of a CLR type used as a whole message or list element.</summary>
    public string TypeText(Type t, NullabilityInfo? info = null)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner) return TypeText(inner) + "?";
        var core = Core(t, info);
        return info is { ReadState: NullabilityState.Nullable } && !t.IsValueType ? core + "?" : core;
    }

    private string Core(Type t, NullabilityInfo? info)
    {
        if (t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(sbyte) || t == typeof(uint) || t == typeof(ushort) || t == typeof(byte))
            return "int64";
        if (t == typeof(double) || t == typeof(float)) return "float64";
        if (t == typeof(bool)) return "bool";
        if (t == typeof(string)) return "string";
        if (t == typeof(byte[])) return "bytes";
        if (t == typeof(DateTime) || t == typeof(DateTimeOffset)) return "timestamp";
        if (t == typeof(DateOnly)) return "date";
        if (ElementType(t) is { } element)
        {
            var elementInfo = info?.ElementType ?? info?.GenericTypeArguments.FirstOrDefault();
            return $"list<{TypeText(element, elementInfo)}>";
        }
        if (t.IsPrimitive || t.IsEnum || t == typeof(decimal) || t == typeof(object) || t.IsInterface || t.IsAbstract)
            throw new NotSupportedException($"{t.Name} has no Sluice type; use long, double, bool, string, byte[], DateTime, DateOnly, a list or a record");
        return MessageName(t);
    }

    internal static Type? ElementType(Type t)
    {
        if (t == typeof(string) || t == typeof(byte[])) return null;
        if (t.IsArray) return t.GetElementType();
        if (t.IsGenericType && typeof(IEnumerable).IsAssignableFrom(t) && t.GetGenericArguments() is [var e]) return e;
        return null;
    }

    private string MessageName(Type t)
    {
        if (IsProtoContract(t)) return ProtoName(t);
        if (_messageNames.TryGetValue(t, out var name)) return name;
        name = t.Name;
        if (_messageNames.ContainsValue(name)) name = t.FullName!.Replace('+', '.');
        _messageNames[t] = name;
        Messages.Add((name, t));
        return name;
    }

    internal static string Describe(Type t)
    {
        var sb = new StringBuilder(t.Name);
        if (t.IsGenericType) sb.Append('<').AppendJoin(", ", t.GetGenericArguments().Select(Describe)).Append('>');
        return sb.ToString();
    }
}
