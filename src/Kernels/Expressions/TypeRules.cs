using Sluice.Kernels.Types;

namespace Sluice.Kernels.Expressions;

/// <summary>How types meet: numeric promotion, None, nullability.</summary>
internal static class TypeRules
{
    /// <summary>The type both <paramref name="a"/> and <paramref name="b"/> convert to, or null when none.</summary>
    public static DataType? Unify(DataType a, DataType b)
    {
        bool nullable = a.IsNullable || b.IsNullable;
        if (a.Kind == TypeKind.Null) return b.WithNullable(true);
        if (b.Kind == TypeKind.Null) return a.WithNullable(true);
        if (a.IsNumeric && b.IsNumeric)
            return (a.Kind == TypeKind.Float64 || b.Kind == TypeKind.Float64 ? DataType.Float64 : DataType.Int64).WithNullable(nullable);
        if (a.Kind == TypeKind.List && b.Kind == TypeKind.List)
        {
            var e = Unify(a.Element!, b.Element!);
            return e is null ? null : DataType.ListOf(e, nullable);
        }
        if (a.SameShape(b))
            return a.WithNullable(nullable);
        return null;
    }

    /// <summary>True when a value of <paramref name="from"/> may stand where <paramref name="to"/> is expected (by conversion).</summary>
    public static bool Converts(DataType from, DataType to) =>
        from.Kind == TypeKind.Null || from.SameShape(to) || (from.Kind == TypeKind.Int64 && to.Kind == TypeKind.Float64) ||
        (from.Kind == TypeKind.Enum && to.Kind == TypeKind.Int64) ||
        (from.Kind == TypeKind.List && to.Kind == TypeKind.List && Converts(from.Element!, to.Element!));

    /// <summary>Wraps <paramref name="e"/> in a cast when its shape differs from <paramref name="to"/>.</summary>
    public static BoundExpr Coerce(BoundExpr e, DataType to)
    {
        if (e.Type.SameShape(to)) return e;
        if (e is LiteralExpr { Value: null }) return new LiteralExpr(null, to.WithNullable(true), e.Span);
        if (e is LiteralExpr { Value: long l } && to.Kind == TypeKind.Float64)
            return new LiteralExpr((double)l, DataType.Float64, e.Span);
        return new CastExpr(e, to.WithNullable(e.Type.IsNullable), e.Span);
    }

    public static bool IsOrderable(DataType t) => t.Kind is TypeKind.Int64 or TypeKind.Float64 or TypeKind.String or TypeKind.Bytes
        or TypeKind.Timestamp or TypeKind.Date or TypeKind.Bool or TypeKind.Enum;
}
