using System.Reflection;
using System.Text.Json;
using Sluice.Kernels.Types;

namespace Sluice.Pipeline.Compilation;

/// <summary>
/// A row resolver's C# function (Chalk's <c>@stream</c> migration path): each parsed message is deserialized into its
/// C# type, the function runs once per message, and the features object it returns is read back by property.
/// </summary>
internal sealed class RowProjection
{
    private readonly Func<object, object?> _function;
    private readonly Dictionary<string, PropertyInfo> _properties;

    internal RowProjection(Type message, Type features, Func<object, object?> function, JsonSerializerOptions json)
    {
        Message = message;
        Features = features;
        _function = function;
        Json = json;
        _properties = RowValues.FeatureProperties(features);
    }

    /// <summary>The C# message type the function takes.</summary>
    public Type Message { get; }
    /// <summary>The feature class type the function returns.</summary>
    public Type Features { get; }
    internal JsonSerializerOptions Json { get; }

    /// <summary>Runs the function on one message payload; null when it returned null (the message is skipped).</summary>
    internal object? Invoke(ReadOnlySpan<byte> payload)
    {
        var message = JsonSerializer.Deserialize(payload, Message, Json) ?? throw new JsonException("the message is JSON null");
        return _function(message);
    }

    /// <summary>One feature of a returned object, in row form (timestamps as microseconds, dates as days).</summary>
    internal object? Get(object features, string feature, DataType type) => RowValues.FromClr(_properties[feature].GetValue(features), type);
}
