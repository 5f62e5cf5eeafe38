using System.Collections.Immutable;
using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Expressions;

/// <summary>
/// The typed IR: one immutable tree that both the kernel compiler and the row interpreter read.
/// Operand types are already reconciled (implicit int64 -> float64 casts are explicit <see cref="CastExpr"/> nodes).
/// </summary>
internal abstract record BoundExpr(DataType Type, TextSpan Span);

/// <summary><c>_</c>.</summary>
internal sealed record RootExpr(DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary>Field <see cref="Index"/> of a struct; nullable when the field or the struct is.</summary>
internal sealed record FieldExpr(BoundExpr Target, string Name, int Index, DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary>
/// Field <see cref="Index"/> of every element of a list of structs (<c>_.items.qty</c>): a list with the target's
/// offsets whose items are that field; an item is null where the element or its field is.
/// </summary>
internal sealed record ListFieldExpr(BoundExpr Target, string Name, int Index, DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary>A constant in row form (see <see cref="Execution.ArrowValues"/>); null for <c>None</c>.</summary>
internal sealed record LiteralExpr(object? Value, DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary><c>-x</c> or <c>not x</c>.</summary>
internal sealed record UnaryExpr(UnaryOp Op, BoundExpr Operand, DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary>A binary operator over operands of one type (both float64 for <c>/</c>).</summary>
internal sealed record BinaryExpr(BinaryOp Op, BoundExpr Left, BoundExpr Right, DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary>A conversion; implicit ones come from numeric promotion, explicit ones from <c>F.cast</c>.</summary>
internal sealed record CastExpr(BoundExpr Operand, DataType Type, TextSpan Span) : BoundExpr(Type, Span);

/// <summary>A catalogue function call; <see cref="State"/> holds what was precompiled from literal arguments.</summary>
internal sealed record CallExpr(FunctionDef Function, ImmutableArray<BoundExpr> Arguments, object? State, DataType Type, TextSpan Span)
    : BoundExpr(Type, Span);
