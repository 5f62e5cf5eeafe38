namespace Sluice;

/// <summary>
/// The function catalogue as typed C# methods, for <see cref="StreamResolver{TMessage}"/> expressions. They are never
/// called: an expression tree that uses them is lowered to the same plan as the YAML text <c>F.snake_name(...)</c>
/// (<c>F.FromUnixSeconds(x)</c> is <c>F.from_unix_seconds(x)</c>). See docs/expressions.md for their semantics.
/// </summary>
public static class F
{
    private static T Lowered<T>() =>
        throw new InvalidOperationException("F.* functions describe expressions for Sluice to compile; they are not called directly");

    /// <summary><c>from_unix_seconds</c>: seconds since the epoch to a UTC timestamp.</summary>
    public static DateTime FromUnixSeconds(double seconds) => Lowered<DateTime>();
    /// <summary><c>from_unix_milliseconds</c>: milliseconds since the epoch to a UTC timestamp.</summary>
    public static DateTime FromUnixMilliseconds(double milliseconds) => Lowered<DateTime>();
    /// <summary><c>to_unix_seconds</c>: a timestamp to seconds since the epoch.</summary>
    public static double ToUnixSeconds(DateTime ts) => Lowered<double>();
    /// <summary><c>format_datetime</c>: strftime formatting (the format is a literal).</summary>
    public static string FormatDatetime(DateTime ts, string format) => Lowered<string>();
    /// <summary><c>day_of_week</c>: ISO day, Monday 1 .. Sunday 7.</summary>
    public static long DayOfWeek(DateTime ts) => Lowered<long>();
    /// <summary><c>hour_of_day</c>: 0..23 UTC.</summary>
    public static long HourOfDay(DateTime ts) => Lowered<long>();

    /// <summary><c>lower</c>.</summary>
    public static string Lower(string s) => Lowered<string>();
    /// <summary><c>upper</c>.</summary>
    public static string Upper(string s) => Lowered<string>();
    /// <summary><c>trim</c>: Unicode white space, both ends.</summary>
    public static string Trim(string s) => Lowered<string>();
    /// <summary><c>substr</c> on text: 0-based start, null length = to the end.</summary>
    public static string Substr(string s, long start, long? length) => Lowered<string>();
    /// <summary><c>substr</c> on bytes.</summary>
    public static byte[] Substr(byte[] s, long start, long? length) => Lowered<byte[]>();
    /// <summary><c>length</c>: code points of text.</summary>
    public static long Length(string s) => Lowered<long>();
    /// <summary><c>length</c>: bytes.</summary>
    public static long Length(byte[] s) => Lowered<long>();
    /// <summary><c>concat</c>: scalars converted to text and joined.</summary>
    public static string Concat(params object?[] values) => Lowered<string>();
    /// <summary><c>starts_with</c>.</summary>
    public static bool StartsWith(string s, string prefix) => Lowered<bool>();
    /// <summary><c>ends_with</c>.</summary>
    public static bool EndsWith(string s, string suffix) => Lowered<bool>();
    /// <summary><c>contains</c> on text.</summary>
    public static bool Contains(string s, string substring) => Lowered<bool>();
    /// <summary><c>contains</c> on a list.</summary>
    public static bool Contains<T>(IEnumerable<T> list, T value) => Lowered<bool>();
    /// <summary><c>replace</c>: every occurrence.</summary>
    public static string Replace(string s, string oldValue, string newValue) => Lowered<string>();
    /// <summary><c>split_part</c>: 0-based, negative from the end.</summary>
    public static string? SplitPart(string s, string delimiter, long index) => Lowered<string?>();
    /// <summary><c>regexp_like</c> (the pattern is a literal).</summary>
    public static bool RegexpLike(string s, string pattern) => Lowered<bool>();
    /// <summary><c>regexp_extract</c> (the pattern is a literal).</summary>
    public static string? RegexpExtract(string s, string pattern, long group = 0) => Lowered<string?>();
    /// <summary><c>strpos</c>: 0-based code point index, -1 when absent.</summary>
    public static long Strpos(string s, string substring) => Lowered<long>();

    /// <summary><c>coalesce</c>: the first non-null value.</summary>
    public static T Coalesce<T>(params T[] values) => Lowered<T>();
    /// <summary><c>is_null</c>.</summary>
    public static bool IsNull(object? value) => Lowered<bool>();
    /// <summary><c>if_then_else</c>: <paramref name="ifFalse"/> when the condition is null or false.</summary>
    public static T IfThenElse<T>(bool? condition, T ifTrue, T ifFalse) => Lowered<T>();

    /// <summary><c>abs</c>.</summary>
    public static T Abs<T>(T x) => Lowered<T>();
    /// <summary><c>round</c>: half away from zero.</summary>
    public static double Round(double x, long digits = 0) => Lowered<double>();
    /// <summary><c>floor</c>.</summary>
    public static double Floor(double x) => Lowered<double>();
    /// <summary><c>ceil</c>.</summary>
    public static double Ceil(double x) => Lowered<double>();
    /// <summary><c>sqrt</c>.</summary>
    public static double Sqrt(double x) => Lowered<double>();
    /// <summary><c>ln</c>.</summary>
    public static double Ln(double x) => Lowered<double>();
    /// <summary><c>power</c>.</summary>
    public static double Power(double b, double exponent) => Lowered<double>();
    /// <summary><c>least</c>.</summary>
    public static T Least<T>(params T[] values) => Lowered<T>();
    /// <summary><c>greatest</c>.</summary>
    public static T Greatest<T>(params T[] values) => Lowered<T>();

    /// <summary><c>md5</c>.</summary>
    public static byte[] Md5(object value) => Lowered<byte[]>();
    /// <summary><c>sha1</c>.</summary>
    public static byte[] Sha1(object value) => Lowered<byte[]>();
    /// <summary><c>sha256</c>.</summary>
    public static byte[] Sha256(object value) => Lowered<byte[]>();
    /// <summary><c>xxhash64</c>: XXH64, seed 0.</summary>
    public static long Xxhash64(object value) => Lowered<long>();

    /// <summary><c>json_value</c>: one scalar of a JSON text as text (the path is a literal).</summary>
    public static string? JsonValue(object json, string path) => Lowered<string?>();
    /// <summary><c>json_extract_array</c>.</summary>
    public static List<string> JsonExtractArray(object json, string path) => Lowered<List<string>>();
    /// <summary><c>cast(x, T)</c>: a value that does not convert is null.</summary>
    public static T? Cast<T>(object? value) => Lowered<T?>();
    /// <summary><c>proto_deserialize(bytes, T)</c>: <typeparamref name="T"/> is a protobuf message (contract type or .proto message of the same name).</summary>
    public static T? ProtoDeserialize<T>(byte[] bytes) where T : class => Lowered<T?>();

    /// <summary><c>array_count</c>.</summary>
    public static long ArrayCount<T>(IEnumerable<T> list) => Lowered<long>();
    /// <summary><c>element_at</c>: 0-based; out of range is null.</summary>
    public static T ElementAt<T>(IEnumerable<T> list, long index) => Lowered<T>();
    /// <summary><c>array_sum</c>.</summary>
    public static T ArraySum<T>(IEnumerable<T> list) => Lowered<T>();
    /// <summary><c>array_max</c>.</summary>
    public static T ArrayMax<T>(IEnumerable<T> list) => Lowered<T>();
    /// <summary><c>array_min</c>.</summary>
    public static T ArrayMin<T>(IEnumerable<T> list) => Lowered<T>();
}
