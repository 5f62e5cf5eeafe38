using System.Collections.Frozen;

namespace Sluice.Kernels.Functions;

/// <summary>Every function callable as <c>F.name(...)</c>.</summary>
internal static class FunctionCatalog
{
    private static readonly FrozenDictionary<string, FunctionDef> ByName =
        TimeFunctions.All().Concat(StringFunctions.All()).Concat(NullFunctions.All()).Concat(MathFunctions.All())
            .Concat(HashFunctions.All()).Concat(JsonFunctions.All()).Concat(ListFunctions.All()).Concat(CastFunction.All())
            .ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>The function named <paramref name="name"/>, or null.</summary>
    public static FunctionDef? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>All function names.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>All functions.</summary>
    public static IEnumerable<FunctionDef> All => ByName.Values;

    internal static FunctionDef Concat => StringFunctions.Concat;
    internal static FunctionDef IsNull => NullFunctions.IsNull;
}
