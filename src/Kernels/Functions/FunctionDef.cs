using System.Collections.Immutable;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>
/// A catalogue function: how it type-checks, its vectorized kernel, and its row reference implementation
/// (the oracle the kernel is tested against).
/// </summary>
internal abstract class FunctionDef
{
    /// <summary>Name as written after <c>F.</c>.</summary>
    public abstract string Name { get; }
    /// <summary>Parameter names, for named arguments and messages.</summary>
    public abstract string[] Parameters { get; }
    /// <summary>Fewest arguments accepted.</summary>
    public virtual int MinArgs => Parameters.Length;
    /// <summary>Most arguments accepted (<see cref="int.MaxValue"/> for variadic).</summary>
    public virtual int MaxArgs => Parameters.Length;
    /// <summary>Catalogue family (time, string, null, math, hash, parse, list, cast).</summary>
    public abstract string Family { get; }
    /// <summary>When true, any null argument makes the result null before the function runs.</summary>
    public virtual bool PropagatesNulls => true;
    /// <summary>Whether argument <paramref name="index"/> names a type (as in <c>F.cast(x, int64)</c>).</summary>
    public virtual bool IsTypeArgument(int index) => false;

    /// <summary>How the call is written, e.g. <c>substr(s, start, length)</c>.</summary>
    public string Signature => $"{Name}({string.Join(", ", Parameters)}{(MaxArgs == int.MaxValue ? ", ..." : "")})";

    /// <summary>Checks the bound arguments and returns the typed call, or reports through <paramref name="ctx"/> and returns null.</summary>
    public abstract BoundExpr? Bind(BindContext ctx, BoundExpr[] args);

    internal abstract Kernel CreateKernel(CallExpr call, Kernel[] args);

    /// <summary>Row reference implementation over row-form values.</summary>
    internal abstract object? EvaluateRow(CallExpr call, object?[] args);

    /// <summary>A call with already-checked arguments (used by operators that lower to functions, like string +).</summary>
    internal CallExpr BindDirect(BoundExpr[] args, DataType type, TextSpan span, object? state = null) =>
        new(this, [.. args], state, type, span);
}

/// <summary>A function defined by three delegates; most of the catalogue is written this way.</summary>
internal sealed class Fn(
    string name,
    string family,
    string[] parameters,
    Func<BindContext, BoundExpr[], BoundExpr?> bind,
    Func<CallExpr, Kernel[], Kernel> kernel,
    Func<CallExpr, object?[], object?> row,
    int? minArgs = null,
    int? maxArgs = null,
    bool propagatesNulls = true,
    int typeArgument = -1) : FunctionDef
{
    public override string Name => name;
    public override string Family => family;
    public override string[] Parameters => parameters;
    public override int MinArgs => minArgs ?? parameters.Length;
    public override int MaxArgs => maxArgs ?? parameters.Length;
    public override bool PropagatesNulls => propagatesNulls;
    public override bool IsTypeArgument(int index) => index == typeArgument;
    public override BoundExpr? Bind(BindContext ctx, BoundExpr[] args) => bind(ctx, args);
    internal override Kernel CreateKernel(CallExpr call, Kernel[] args) => kernel(call, args);
    internal override object? EvaluateRow(CallExpr call, object?[] args) => row(call, args);
}

/// <summary>Small helpers the function families share when binding.</summary>
internal static class Binding
{
    public static bool AnyNullable(BoundExpr[] args) => args.Any(a => a.Type.IsNullable);

    public static CallExpr Call(BindContext ctx, BoundExpr[] args, DataType type, object? state = null) =>
        new(ctx.Function, [.. args], state, type, ctx.Call.Span);

    /// <summary>True when argument i is of one of the kinds (None counts as any); reports otherwise.</summary>
    public static bool Expect(BindContext ctx, BoundExpr[] args, int i, string expected, params TypeKind[] kinds)
    {
        if (args[i].Type.Kind == TypeKind.Null || kinds.Contains(args[i].Type.Kind)) return true;
        ctx.ArgumentType(i, args[i].Type, expected);
        return false;
    }

    /// <summary>The literal value of argument i, or an error when it is not a literal.</summary>
    public static bool Literal<T>(BindContext ctx, BoundExpr[] args, int i, string what, out T value)
    {
        if (args[i] is LiteralExpr { Value: T v })
        {
            value = v;
            return true;
        }
        value = default!;
        ctx.Error(ErrorCodes.LiteralRequired, $"F.{ctx.Function.Name} needs {what} written as a literal here (it is compiled once, before any message)", i);
        return false;
    }

    /// <summary>Coerces a None/int argument to the kind the kernel reads.</summary>
    public static BoundExpr To(BoundExpr e, DataType t) => TypeRules.Coerce(e, t);

    public static BoundExpr[] ToAll(BoundExpr[] args, DataType t) => args.Select(a => TypeRules.Coerce(a, t)).ToArray();
}
