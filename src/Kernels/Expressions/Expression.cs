using Apache.Arrow;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Interpretation;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Expressions;

/// <summary>Entry points of the expression language: check text into typed IR, compile IR into kernels.</summary>
public static class Expression
{
    /// <summary>Parses and type-checks <paramref name="source"/> with <c>_</c> of type <paramref name="root"/>.</summary>
    internal static BoundExpr? Check(string source, DataType root, ITypeScope? scope, out IReadOnlyList<Diagnostic> errors)
    {
        var syntax = ExpressionParser.Parse(source, out var parseError);
        if (syntax is null)
        {
            errors = [parseError!];
            return null;
        }
        return Binder.Bind(syntax, root, scope, out errors);
    }

    /// <summary>Checks and compiles <paramref name="source"/> with <c>_</c> of type <paramref name="root"/>; throws <see cref="ExpressionException"/> with every error when the text is invalid.</summary>
    public static CompiledExpression Compile(string source, DataType root) => Compile(source, root, null);

    /// <summary>Checks and compiles with the names <paramref name="scope"/> resolves (message types, protobuf messages).</summary>
    internal static CompiledExpression Compile(string source, DataType root, ITypeScope? scope)
    {
        var ir = Check(source, root, scope, out var errors);
        if (ir is null) throw new ExpressionException(source, errors);
        return Compile(ir);
    }

    /// <summary>Compiles typed IR into a vectorized plan.</summary>
    internal static CompiledExpression Compile(BoundExpr ir) => new(ir, KernelCompiler.Compile(ir, out int shared)) { SharedCalls = shared };
}

/// <summary>An expression compiled once into kernels; evaluate it over whole batches.</summary>
public sealed class CompiledExpression
{
    private readonly Kernel _kernel;

    internal CompiledExpression(BoundExpr ir, Kernel kernel)
    {
        Ir = ir;
        _kernel = kernel;
    }

    /// <summary>The typed IR it was compiled from.</summary>
    internal BoundExpr Ir { get; }

    /// <summary>The result type.</summary>
    public DataType Type => Ir.Type;

    /// <summary>How many function calls written more than once in the text are computed once per batch.</summary>
    internal int SharedCalls { get; init; }

    /// <summary>True when the expression does not depend on the message (a constant).</summary>
    public bool IsConstant => _kernel is ConstKernel;

    /// <summary>Evaluates over a batch whose message column is <paramref name="root"/>; one result row per input row.</summary>
    public IArrowArray Evaluate(IArrowArray root) => _kernel.Evaluate(new EvalContext(root)).ToArray(root.Length);

    /// <summary>
    /// Evaluates, and names the rows a kernel could not decode (e.g. <c>F.proto_deserialize</c> of malformed bytes):
    /// those rows are null in the result and listed in <paramref name="errors"/> by row index, in row order.
    /// </summary>
    internal IArrowArray Evaluate(IArrowArray root, out IReadOnlyList<Parsing.ParseError> errors)
    {
        var ctx = new EvalContext(root);
        var result = _kernel.Evaluate(ctx).ToArray(root.Length);
        errors = ctx.Errors is { } e ? e.GroupBy(x => x.Index).Select(g => g.First()).OrderBy(x => x.Index).ToList() : [];
        return result;
    }

    /// <summary>Row reference evaluation (the oracle), for tests and row resolvers.</summary>
    public object? EvaluateRow(object? root) => RowInterpreter.Evaluate(Ir, root);
}
