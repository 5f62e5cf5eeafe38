namespace Sluice.Kernels.Types;

/// <summary>
/// Reads type names as definition files write them: <c>int64</c>, <c>string?</c>, <c>list&lt;float64?&gt;</c>,
/// and names of declared structs/enums through a resolver. Python spellings the seed uses
/// (<c>int</c>, <c>str</c>, <c>float</c>, <c>datetime</c>) are accepted as aliases.
/// </summary>
internal static class TypeSyntax
{
    /// <summary>Parses <paramref name="text"/>; returns null and an error message when it is not a type.</summary>
    public static DataType? TryParse(string text, Func<string, DataType?>? resolveNamed, out string? error)
    {
        error = null;
        var t = text.Trim();
        bool nullable = false;
        if (t.EndsWith('?')) { nullable = true; t = t[..^1].TrimEnd(); }
        if (t.Contains('|'))
        {
            var parts = t.Split('|', StringSplitOptions.TrimEntries);
            var nonNone = parts.Where(p => p is not ("None" or "null")).ToArray();
            if (nonNone.Length == 1 && parts.Length == 2)
                return TryParse(nonNone[0] + "?", resolveNamed, out error);
            error = $"union type '{text}' is not supported; a field must have one well-defined type (use a parse expression to pick one)";
            return null;
        }
        if (t.StartsWith("list<", StringComparison.Ordinal) && t.EndsWith('>'))
        {
            var inner = TryParse(t[5..^1], resolveNamed, out error);
            return inner is null ? null : DataType.ListOf(inner, nullable);
        }
        DataType? core = t switch
        {
            "int64" or "int" or "long" => DataType.Int64,
            "float64" or "float" or "double" => DataType.Float64,
            "bool" or "boolean" => DataType.Bool,
            "string" or "str" => DataType.String,
            "bytes" or "binary" => DataType.Bytes,
            "timestamp" or "datetime" => DataType.Timestamp,
            "date" => DataType.Date,
            _ => null,
        };
        if (core is null && t is "Any" or "any" or "object")
        {
            error = $"type '{t}' is not supported; a field must have one well-defined type";
            return null;
        }
        core ??= resolveNamed?.Invoke(t);
        if (core is null)
        {
            error = $"unknown type '{t}'";
            return null;
        }
        return core.WithNullable(nullable);
    }

    /// <summary>True when <paramref name="name"/> is a built-in type name (or alias).</summary>
    public static bool IsBuiltinName(string name) =>
        name is "int64" or "int" or "long" or "float64" or "float" or "double" or "bool" or "boolean" or "string" or "str"
            or "bytes" or "binary" or "timestamp" or "datetime" or "date" or "list";
}
