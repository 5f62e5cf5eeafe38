using System.Text.Json;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Tests.Support;

/// <summary>
/// Compact schemas for tests: a JSON object whose values are type strings ("int64", "string?", "list&lt;int64&gt;")
/// or nested objects (structs; a trailing '?' on the key makes the struct nullable), or one-element arrays of an object
/// (a list of structs; <c>[{...}, null]</c> lets its items be null), or a bare type ("string").
/// Enums are declared with <see cref="AddEnum"/> and referenced by name.
/// </summary>
internal sealed class TestSchema : ITypeScope
{
    private readonly Dictionary<string, DataType> _named = new(StringComparer.Ordinal);

    public DataType? ResolveType(string name) => _named.GetValueOrDefault(name);

    public void AddEnum(string name, IEnumerable<(string Name, long Number)> members) =>
        _named[name] = DataType.EnumOf(name, members.Select(m => new EnumMember(m.Name, m.Number)));

    public DataType Parse(string text, string rootName = "Message")
    {
        text = text.Trim();
        if (!text.StartsWith('{')) return Type(text);
        using var doc = JsonDocument.Parse(text);
        return Struct(rootName, doc.RootElement, false);
    }

    private DataType Type(string t) => TypeSyntax.TryParse(t, ResolveType, out var error) ?? throw new ArgumentException(error);

    private DataType Struct(string name, JsonElement e, bool nullable)
    {
        var fields = new List<StructField>();
        foreach (var p in e.EnumerateObject())
        {
            var key = p.Name;
            bool optional = key.EndsWith('?');
            if (optional) key = key[..^1];
            DataType t = p.Value.ValueKind switch
            {
                JsonValueKind.String => Type(p.Value.GetString()!),
                JsonValueKind.Object => Struct(Pascal(key), p.Value, optional),
                JsonValueKind.Array => DataType.ListOf(
                    Struct(Pascal(key), p.Value[0], p.Value.GetArrayLength() > 1 && p.Value[1].ValueKind == JsonValueKind.Null), optional),
                _ => throw new ArgumentException($"bad schema entry {p.Name}"),
            };
            fields.Add(new StructField(key, t));
        }
        var s = DataType.StructOf(name, fields, nullable);
        _named.TryAdd(name, s.WithNullable(false));
        return s;
    }

    private static string Pascal(string snake) =>
        string.Concat(snake.Split('_').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));
}
