namespace Sluice.Kernels.Diagnostics;

/// <summary>
/// Every stable diagnostic code of the expression language. A code never changes meaning once released;
/// add new ones at the end of their range. A unit test checks they are unique and each has a golden case.
/// Ranges: SLU0xx expression syntax, SLU1xx expression types and names.
/// </summary>
internal static class ErrorCodes
{
    /// <summary>A character that cannot start any token.</summary>
    public const string UnexpectedCharacter = "SLU001";
    /// <summary>A string or bytes literal without its closing quote.</summary>
    public const string UnterminatedString = "SLU002";
    /// <summary>A backslash escape that is not recognised.</summary>
    public const string InvalidEscape = "SLU003";
    /// <summary>An integer literal outside int64.</summary>
    public const string IntegerOutOfRange = "SLU004";
    /// <summary>A token where another was expected.</summary>
    public const string UnexpectedToken = "SLU005";
    /// <summary>The expression ended early.</summary>
    public const string UnexpectedEnd = "SLU006";
    /// <summary>A malformed number literal (misplaced '_', bad exponent).</summary>
    public const string InvalidNumber = "SLU007";

    /// <summary>A struct has no field of that name.</summary>
    public const string UnknownField = "SLU101";
    /// <summary>Field access on a value that is not a struct (e.g. a <c>string</c> message).</summary>
    public const string FieldAccessOnNonStruct = "SLU102";
    /// <summary>No function of that name in the catalogue.</summary>
    public const string UnknownFunction = "SLU103";
    /// <summary>A function called with the wrong number of arguments.</summary>
    public const string WrongArgumentCount = "SLU104";
    /// <summary>A function argument of a type the function does not take.</summary>
    public const string ArgumentTypeMismatch = "SLU105";
    /// <summary>An operator applied to operand types it does not take.</summary>
    public const string OperatorTypeMismatch = "SLU106";
    /// <summary>A name that is neither <c>_</c>, <c>F</c>, a literal nor an enum constant.</summary>
    public const string UnknownName = "SLU107";
    /// <summary>A type name written where an expression belongs (<c>Transaction.amount: int</c>).</summary>
    public const string TypeUsedAsExpression = "SLU108";
    /// <summary>An enum constant whose enum or member does not exist.</summary>
    public const string UnknownEnumMember = "SLU109";
    /// <summary>An argument that must be a literal (pattern, path, format, type) is not.</summary>
    public const string LiteralRequired = "SLU110";
    /// <summary>A regular expression that does not compile.</summary>
    public const string InvalidRegex = "SLU111";
    /// <summary>A JSON path outside the supported subset (<c>$.a.b[0]</c>).</summary>
    public const string InvalidJsonPath = "SLU112";
    /// <summary>A datetime format string with an unknown directive.</summary>
    public const string InvalidFormat = "SLU113";
    /// <summary>A cast between types that has no defined conversion, or an unknown target type.</summary>
    public const string InvalidCast = "SLU114";
    /// <summary>Branches or arguments that must share a type do not.</summary>
    public const string IncompatibleTypes = "SLU115";
    // SLU116 (a function not available yet) is retired: every catalogue function is available. It is not reused.
    /// <summary>F.proto_deserialize names something that is not a protobuf message.</summary>
    public const string UnknownProtoMessage = "SLU117";

    /// <summary>All codes with a short description, for docs and the uniqueness test.</summary>
    public static IReadOnlyList<(string Code, string Name)> All { get; } =
        typeof(ErrorCodes).GetFields().Where(f => f.IsLiteral).Select(f => ((string)f.GetRawConstantValue()!, f.Name)).ToList();
}
