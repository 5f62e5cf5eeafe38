using System.Reflection;
using System.Text.Json;
using Sluice.Kernels.Types;

namespace Sluice.Pipeline.Compilation;

/// <summary>
/// A C# online resolver: an async, batched function from features of a class to more features of it (the seed's
/// embedding model). It runs in a stream resolver whose sink lists one of its outputs, after deduplication, so a
/// duplicate never triggers it; its outputs then go to every target of that resolver.
/// </summary>
internal sealed class OnlineComputation
{
    private readonly Func<IReadOnlyList<object>, CancellationToken, Task<IReadOnlyList<object?>>> _function;
    private readonly Dictionary<string, PropertyInfo> _properties;

    internal OnlineComputation(string name, Type features, IReadOnlyList<string> outputs, Func<IReadOnlyList<object>, CancellationToken, Task<IReadOnlyList<object?>>> function)
    {
        Name = name;
        Features = features;
        Outputs = outputs;
        _function = function;
        _properties = RowValues.FeatureProperties(features);
    }

    /// <summary>The online resolver's name.</summary>
    public string Name { get; }
    /// <summary>The feature class type.</summary>
    public Type Features { get; }
    /// <summary>The features it computes (names within the class, e.g. <c>embedding</c>).</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>
    /// Builds one features object per row from row-form values by feature name, runs the function on all of them, and
    /// returns the output features of each result in row form (null rows when the function returned null).
    /// </summary>
    internal async Task<object?[][]> RunAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, IReadOnlyList<DataType> outputTypes, CancellationToken ct)
    {
        var inputs = new List<object>(rows.Count);
        foreach (var row in rows)
        {
            var o = Activator.CreateInstance(Features)!;
            foreach (var (name, value) in row)
                if (_properties.TryGetValue(name, out var p) && p.CanWrite && value is not null) p.SetValue(o, RowValues.ToClr(value, p.PropertyType));
            inputs.Add(o);
        }
        var results = await _function(inputs, ct).ConfigureAwait(false);
        if (results.Count != rows.Count)
            throw new InvalidOperationException($"online resolver {Name} returned {results.Count} results for {rows.Count} rows; it must return one per row, in order");
        return Outputs.Select((name, k) => results.Select(r => r is null ? null : RowValues.FromClr(_properties[name].GetValue(r), outputTypes[k])).ToArray()).ToArray();
    }
}

/// <summary>Row-form values (int64 as long, timestamps as microseconds, dates as days, lists as arrays) to and from CLR values.</summary>
internal static class RowValues
{
    /// <summary>The public properties of a feature class type by feature name (snake_case).</summary>
    public static Dictionary<string, PropertyInfo> FeatureProperties(Type features) =>
        features.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .ToDictionary(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name), StringComparer.Ordinal);

    public static object? FromClr(object? v, DataType type) => v switch
    {
        null => null,
        DateTime t => (t.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks) / 10,
        DateTimeOffset t => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10,
        DateOnly d => d.DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber,
        string or byte[] => v,
        int or long or short or uint or ushort or byte or sbyte when type.Kind == TypeKind.Int64 => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture),
        float f => (double)f,
        System.Collections.IEnumerable items when type.Kind == TypeKind.List => items.Cast<object?>().Select(x => FromClr(x, type.Element!)).ToArray(),
        _ => v,
    };

    public static object? ToClr(object value, Type target)
    {
        target = Nullable.GetUnderlyingType(target) ?? target;
        if (target == typeof(DateTime) && value is long micros) return DateTime.UnixEpoch.AddTicks(micros * 10);
        if (target == typeof(DateOnly) && value is int days) return DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + days);
        if (value is object?[] items && target != typeof(byte[]))
        {
            var element = target.IsArray ? target.GetElementType()! : target.GetGenericArguments()[0];
            var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            foreach (var x in items) list.Add(x is null ? null : ToClr(x, element));
            if (!target.IsArray) return list;
            var array = Array.CreateInstance(element, list.Count);
            list.CopyTo(array, 0);
            return array;
        }
        return target.IsInstanceOfType(value) ? value : Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
    }
}
