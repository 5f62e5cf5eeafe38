using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Expressions.Syntax;
using Sluice.Kernels.Functions;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Expressions;

/// <summary>Resolves type names that expressions mention: enums in <c>Type.Enum.NAME</c>, targets of casts and parses.</summary>
internal interface ITypeScope
{
    /// <summary>The declared type with this (possibly dotted) name, or null.</summary>
    DataType? ResolveType(string name);

    /// <summary>The protobuf message with this name (as <c>F.proto_deserialize</c> names it), or null.</summary>
    ProtoMessage? ResolveProtoMessage(string name) => null;
}

/// <summary>
/// The type checker: resolves every name of a syntax tree against the root (message) type and the function
/// catalogue, and yields typed IR or all the errors it found.
/// </summary>
internal sealed class Binder
{
    private readonly DataType _root;
    private readonly ITypeScope? _scope;
    private readonly List<Diagnostic> _errors = [];

    private Binder(DataType root, ITypeScope? scope)
    {
        _root = root;
        _scope = scope;
    }

    /// <summary>Binds <paramref name="syntax"/> with <c>_</c> of type <paramref name="root"/>.</summary>
    public static BoundExpr? Bind(SyntaxNode syntax, DataType root, ITypeScope? scope, out IReadOnlyList<Diagnostic> errors)
    {
        var b = new Binder(root, scope);
        var result = b.BindNode(syntax);
        errors = b._errors;
        return b._errors.Count == 0 ? result : null;
    }

    internal void Error(string code, string message, TextSpan span) => _errors.Add(new Diagnostic(code, message, span));

    internal DataType? ResolveTypeName(string name) =>
        TypeSyntax.TryParse(name, n => _scope?.ResolveType(n), out _);

    private BoundExpr? BindNode(SyntaxNode node) => node switch
    {
        RootSyntax r => new RootExpr(_root, r.Span),
        LiteralSyntax l => BindLiteral(l),
        NameSyntax n => BindName(n),
        MemberSyntax m => BindMember(m),
        CallSyntax c => BindCall(c),
        UnarySyntax u => BindUnary(u),
        BinarySyntax b => BindBinary(b),
        _ => throw new InvalidOperationException(node.GetType().Name),
    };

    private static BoundExpr BindLiteral(LiteralSyntax l) => l.Kind switch
    {
        LiteralKind.Int => new LiteralExpr(l.Value, DataType.Int64, l.Span),
        LiteralKind.Float => new LiteralExpr(l.Value, DataType.Float64, l.Span),
        LiteralKind.String => new LiteralExpr(l.Value, DataType.String, l.Span),
        LiteralKind.Bytes => new LiteralExpr(l.Value, DataType.Bytes, l.Span),
        LiteralKind.Bool => new LiteralExpr(l.Value, DataType.Bool, l.Span),
        _ => new LiteralExpr(null, DataType.Null, l.Span),
    };

    private BoundExpr? BindName(NameSyntax n)
    {
        if (n.Name == "F")
            Error(ErrorCodes.UnknownFunction, "F is the function namespace; call a function, e.g. F.lower(_.name)", n.Span);
        else if (TypeSyntax.IsBuiltinName(n.Name) || _scope?.ResolveType(n.Name) is not null)
            Error(ErrorCodes.TypeUsedAsExpression,
                $"'{n.Name}' is a type, but an expression belongs here; map the feature to a message field (e.g. _.amount) or a literal", n.Span);
        else if (n.Name is "true" or "false" or "null" or "none")
            Error(ErrorCodes.UnknownName, $"unknown name '{n.Name}'; literals are written True, False and None", n.Span);
        else
            Error(ErrorCodes.UnknownName, $"unknown name '{n.Name}'; the message is '_' (e.g. _.{n.Name}) and functions are F.name(...)", n.Span);
        return null;
    }

    private static string? DottedName(SyntaxNode n) => n switch
    {
        NameSyntax name => name.Name,
        MemberSyntax m when DottedName(m.Target) is { } head => head + "." + m.Name,
        _ => null,
    };

    private BoundExpr? BindMember(MemberSyntax m)
    {
        if (DottedName(m) is { } dotted && !dotted.StartsWith("F.", StringComparison.Ordinal))
            return BindEnumConstant(m, dotted);
        if (m.Target is NameSyntax { Name: "F" })
        {
            Error(ErrorCodes.UnknownFunction, $"F.{m.Name} is a function; call it: F.{m.Name}(...)", m.Span);
            return null;
        }
        var target = BindNode(m.Target);
        if (target is null) return null;
        if (target.Type is { Kind: TypeKind.List, Element.Kind: TypeKind.Struct })
            return BindListMember(m, target);
        if (target.Type.Kind != TypeKind.Struct)
        {
            var what = target is RootExpr ? $"the message type is {target.Type}" : $"this value is {target.Type}";
            Error(ErrorCodes.FieldAccessOnNonStruct, target.Type.Kind == TypeKind.List
                ? $"cannot access field '{m.Name}': {what}; a field is read through a list only when its items are structs (use F.element_at, F.array_count, ... on this list)"
                : $"cannot access field '{m.Name}': {what}, not a struct; use string/bytes functions on it (e.g. F.json_value(_, \"$.{m.Name}\"))", m.NameSpan);
            return null;
        }
        int index = FieldIndex(target.Type, m);
        if (index < 0) return null;
        var field = target.Type.Fields[index];
        return new FieldExpr(target, field.Name, index, field.Type.WithNullable(field.Type.IsNullable || target.Type.IsNullable), m.Span);
    }

    /// <summary>
    /// A field read through a list of structs, <c>_.items.qty</c>: the field of every element, as a list of the field's
    /// type (an element that is null gives a null item), null where the list is. Chains: <c>_.items.dims.width</c>.
    /// </summary>
    private BoundExpr? BindListMember(MemberSyntax m, BoundExpr target)
    {
        var element = target.Type.Element!;
        int index = FieldIndex(element, m);
        if (index < 0) return null;
        var field = element.Fields[index];
        var item = field.Type.WithNullable(field.Type.IsNullable || element.IsNullable);
        return new ListFieldExpr(target, field.Name, index, DataType.ListOf(item, target.Type.IsNullable), m.Span);
    }

    private int FieldIndex(DataType structType, MemberSyntax m)
    {
        int index = structType.FieldIndex(m.Name);
        if (index >= 0) return index;
        var names = structType.Fields.Select(f => f.Name).ToList();
        var suggestion = Suggest.Closest(m.Name, names);
        Error(ErrorCodes.UnknownField,
            $"{structType.Name} has no field '{m.Name}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} (fields: {string.Join(", ", names)})", m.NameSpan);
        return -1;
    }

    private BoundExpr? BindEnumConstant(MemberSyntax m, string dotted)
    {
        int dot = dotted.LastIndexOf('.');
        var typeName = dotted[..dot];
        var member = dotted[(dot + 1)..];
        var type = _scope?.ResolveType(typeName);
        if (type is null || type.Kind != TypeKind.Enum)
        {
            var head = dotted[..dotted.IndexOf('.')];
            if (TypeSyntax.IsBuiltinName(head))
                Error(ErrorCodes.TypeUsedAsExpression, $"'{head}' is a type, but an expression belongs here", m.Span);
            else
                Error(ErrorCodes.UnknownEnumMember,
                    type is null ? $"unknown enum '{typeName}' in '{dotted}'; enum constants are written Message.Enum.NAME and the message is '_'"
                                 : $"'{typeName}' is {type}, not an enum; enum constants are written Message.Enum.NAME", m.Span);
            return null;
        }
        // Protobuf style prefixes enum members with the enum's name (USER_TYPE_GUEST); accept GUEST for it.
        var prefix = Suggest.ScreamingSnake(type.Name![(type.Name!.LastIndexOf('.') + 1)..]) + "_";
        foreach (var em in type.Members)
            if (em.Name == member || em.Name == prefix + member)
                return new LiteralExpr(em.Number, type.WithNullable(false), m.Span);
        Error(ErrorCodes.UnknownEnumMember,
            $"enum {type.Name} has no member '{member}' (members: {string.Join(", ", type.Members.Select(x => x.Name))})", m.NameSpan);
        return null;
    }

    private BoundExpr? BindCall(CallSyntax c)
    {
        if (c.Target is not MemberSyntax { Target: NameSyntax { Name: "F" } } fm)
        {
            Error(ErrorCodes.UnknownFunction, "only catalogue functions can be called, written F.name(...)", c.Target.Span);
            foreach (var a in c.Arguments) BindNode(a.Value);
            return null;
        }
        var fn = FunctionCatalog.Find(fm.Name);
        if (fn is null)
        {
            var s = Suggest.Closest(fm.Name, FunctionCatalog.Names);
            Error(ErrorCodes.UnknownFunction, $"unknown function F.{fm.Name}{(s is null ? "" : $"; did you mean F.{s}?")}", fm.NameSpan);
            foreach (var a in c.Arguments) BindNode(a.Value);
            return null;
        }
        var ordered = OrderArguments(fn, c);
        if (ordered is null) return null;
        if (ordered.Count < fn.MinArgs || ordered.Count > fn.MaxArgs)
        {
            var expected = fn.MinArgs == fn.MaxArgs ? $"{fn.MinArgs}" : fn.MaxArgs == int.MaxValue ? $"at least {fn.MinArgs}" : $"{fn.MinArgs} to {fn.MaxArgs}";
            Error(ErrorCodes.WrongArgumentCount, $"F.{fn.Name} takes {expected} argument(s) but got {ordered.Count}: F.{fn.Signature}", c.Span);
            return null;
        }
        var args = new BoundExpr?[ordered.Count];
        bool ok = true;
        for (int i = 0; i < ordered.Count; i++)
        {
            if (fn.IsTypeArgument(i))
            {
                args[i] = BindTypeArgument(fn, ordered[i]);
            }
            else args[i] = BindNode(ordered[i]);
            ok &= args[i] is not null;
        }
        if (!ok) return null;
        var ctx = new BindContext(this, fn, c, ordered);
        return fn.Bind(ctx, args!);
    }

    private BoundExpr? BindTypeArgument(FunctionDef fn, SyntaxNode arg)
    {
        var name = arg switch
        {
            LiteralSyntax { Kind: LiteralKind.String, Value: string s } => s,
            _ => DottedName(arg),
        };
        if (fn.Name == "proto_deserialize")
        {
            if (name is not null && _scope?.ResolveProtoMessage(name) is { } message) return new LiteralExpr(message, message.Type, arg.Span);
            Error(ErrorCodes.UnknownProtoMessage, name is null
                ? "F.proto_deserialize needs a protobuf message name here, e.g. F.proto_deserialize(_, acme.User)"
                : $"'{name}' is not a protobuf message; list the .proto file that declares it under protos: and name the message (e.g. acme.User)", arg.Span);
            return null;
        }
        var type = name is null ? null : ResolveTypeName(name);
        if (type is null)
        {
            Error(ErrorCodes.InvalidCast, name is null
                ? $"F.{fn.Name} needs a type name here, e.g. int64, float64, string, timestamp"
                : $"unknown type '{name}' in F.{fn.Name}; use int64, float64, bool, string, bytes, timestamp, date or a declared message", arg.Span);
            return null;
        }
        // A type argument travels as a literal whose value is the type itself.
        return new LiteralExpr(type, type, arg.Span);
    }

    private List<SyntaxNode>? OrderArguments(FunctionDef fn, CallSyntax c)
    {
        var result = new List<SyntaxNode?>();
        foreach (var a in c.Arguments)
        {
            if (a.Name is null)
            {
                result.Add(a.Value);
                continue;
            }
            int idx = Array.IndexOf(fn.Parameters, a.Name);
            if (idx < 0)
            {
                Error(ErrorCodes.WrongArgumentCount, $"F.{fn.Name} has no parameter '{a.Name}': F.{fn.Signature}", a.Value.Span);
                return null;
            }
            while (result.Count <= idx) result.Add(null);
            if (result[idx] is not null)
            {
                Error(ErrorCodes.WrongArgumentCount, $"F.{fn.Name} got parameter '{a.Name}' twice", a.Value.Span);
                return null;
            }
            result[idx] = a.Value;
        }
        for (int i = 0; i < result.Count; i++)
            if (result[i] is null)
            {
                Error(ErrorCodes.WrongArgumentCount, $"F.{fn.Name} is missing parameter '{fn.Parameters[i]}': F.{fn.Signature}", c.Span);
                return null;
            }
        return result!;
    }

    private BoundExpr? BindUnary(UnarySyntax u)
    {
        var operand = BindNode(u.Operand);
        if (operand is null) return null;
        if (u.Op == UnaryOp.Negate)
        {
            if (!operand.Type.IsNumeric && operand.Type.Kind != TypeKind.Null)
            {
                Error(ErrorCodes.OperatorTypeMismatch, $"unary '-' needs int64 or float64 but the operand is {operand.Type}", u.Span);
                return null;
            }
            if (operand is LiteralExpr { Value: long l } && l != long.MinValue) return new LiteralExpr(-l, DataType.Int64, u.Span);
            if (operand is LiteralExpr { Value: double d }) return new LiteralExpr(-d, DataType.Float64, u.Span);
            var t = operand.Type.Kind == TypeKind.Null ? DataType.Int64.WithNullable(true) : operand.Type;
            // -int64.MinValue overflows to null.
            return new UnaryExpr(UnaryOp.Negate, operand, t.Kind == TypeKind.Int64 ? t.WithNullable(true) : t, u.Span);
        }
        if (operand.Type.Kind is not (TypeKind.Bool or TypeKind.Null))
        {
            Error(ErrorCodes.OperatorTypeMismatch, $"'not' needs a bool but the operand is {operand.Type}; compare it first (e.g. x == 0)", u.Span);
            return null;
        }
        return new UnaryExpr(UnaryOp.Not, TypeRules.Coerce(operand, DataType.Bool), DataType.Bool.WithNullable(operand.Type.IsNullable), u.Span);
    }

    private BoundExpr? BindBinary(BinarySyntax b)
    {
        var left = BindNode(b.Left);
        var right = BindNode(b.Right);
        if (left is null || right is null) return null;
        var lt = left.Type;
        var rt = right.Type;
        bool nullable = lt.IsNullable || rt.IsNullable;
        string Mismatch(string need) =>
            $"'{OperatorText.Of(b.Op)}' needs {need} but got {lt} {OperatorText.Of(b.Op)} {rt}";

        switch (b.Op)
        {
            case BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.FloorDivide or BinaryOp.Modulo:
            {
                if (b.Op == BinaryOp.Add && TypeRules.Unify(lt, rt) is { Kind: TypeKind.String or TypeKind.Bytes } cat)
                    return FunctionCatalog.Concat.BindDirect([TypeRules.Coerce(left, cat), TypeRules.Coerce(right, cat)], cat, b.Span);
                var t = NumericOperands(lt, rt);
                if (t is null) { Error(ErrorCodes.OperatorTypeMismatch, Mismatch("numbers (int64 or float64)"), b.OpSpan); return null; }
                // Integer results may overflow (or divide by zero): those rows are null, so the type is nullable.
                bool mayNull = nullable || t.Kind == TypeKind.Int64 || b.Op is BinaryOp.FloorDivide or BinaryOp.Modulo;
                return new BinaryExpr(b.Op, TypeRules.Coerce(left, t), TypeRules.Coerce(right, t), t.WithNullable(mayNull), b.Span);
            }
            case BinaryOp.Divide:
            {
                if (NumericOperands(lt, rt) is null) { Error(ErrorCodes.OperatorTypeMismatch, Mismatch("numbers (int64 or float64)"), b.OpSpan); return null; }
                return new BinaryExpr(b.Op, TypeRules.Coerce(left, DataType.Float64), TypeRules.Coerce(right, DataType.Float64),
                    DataType.Float64.WithNullable(true), b.Span);
            }
            case BinaryOp.Equal or BinaryOp.NotEqual when lt.Kind == TypeKind.Null || rt.Kind == TypeKind.Null:
            {
                // x == None reads as "x is None" in Python; give it that meaning rather than SQL's always-null.
                var operand = lt.Kind == TypeKind.Null ? right : left;
                BoundExpr isNull = FunctionCatalog.IsNull.BindDirect([operand], DataType.Bool, b.Span);
                return b.Op == BinaryOp.Equal ? isNull : new UnaryExpr(UnaryOp.Not, isNull, DataType.Bool, b.Span);
            }
            case BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual:
            {
                // An enum compares with an int64 by its number (C# expression trees compare enums as integers).
                if (lt.Kind == TypeKind.Enum && rt.Kind == TypeKind.Int64) lt = (left = TypeRules.Coerce(left, DataType.Int64)).Type;
                else if (lt.Kind == TypeKind.Int64 && rt.Kind == TypeKind.Enum) rt = (right = TypeRules.Coerce(right, DataType.Int64)).Type;
                var t = TypeRules.Unify(lt, rt);
                if (t is null || !TypeRules.IsOrderable(t))
                {
                    Error(ErrorCodes.OperatorTypeMismatch, Mismatch("two values of one comparable type"), b.OpSpan);
                    return null;
                }
                return new BinaryExpr(b.Op, TypeRules.Coerce(left, t), TypeRules.Coerce(right, t), DataType.Bool.WithNullable(nullable), b.Span);
            }
            default: // And, Or
            {
                if (lt.Kind is not (TypeKind.Bool or TypeKind.Null) || rt.Kind is not (TypeKind.Bool or TypeKind.Null))
                {
                    Error(ErrorCodes.OperatorTypeMismatch, Mismatch("bool operands"), b.OpSpan);
                    return null;
                }
                return new BinaryExpr(b.Op, TypeRules.Coerce(left, DataType.Bool), TypeRules.Coerce(right, DataType.Bool),
                    DataType.Bool.WithNullable(nullable), b.Span);
            }
        }
    }

    private static DataType? NumericOperands(DataType a, DataType b)
    {
        if (a.Kind == TypeKind.Null && b.Kind == TypeKind.Null) return DataType.Int64;
        if ((a.IsNumeric || a.Kind == TypeKind.Null) && (b.IsNumeric || b.Kind == TypeKind.Null))
            return TypeRules.Unify(a, b)!.WithNullable(false);
        return null;
    }
}

/// <summary>What a function's binding step sees: its arguments' syntax and a way to report errors.</summary>
internal sealed class BindContext
{
    private readonly Binder _binder;

    internal BindContext(Binder binder, FunctionDef fn, CallSyntax call, IReadOnlyList<SyntaxNode> args)
    {
        _binder = binder;
        Function = fn;
        Call = call;
        ArgumentSyntax = args;
    }

    /// <summary>The function being bound.</summary>
    public FunctionDef Function { get; }
    /// <summary>The call as written.</summary>
    public CallSyntax Call { get; }
    /// <summary>Arguments in parameter order.</summary>
    public IReadOnlyList<SyntaxNode> ArgumentSyntax { get; }

    /// <summary>Reports an error at argument <paramref name="index"/> (or the whole call when -1) and returns null.</summary>
    public BoundExpr? Error(string code, string message, int index = -1)
    {
        _binder.Error(code, message, index < 0 ? Call.Span : ArgumentSyntax[index].Span);
        return null;
    }

    /// <summary>An error for argument <paramref name="index"/> that has the wrong type.</summary>
    public BoundExpr? ArgumentType(int index, DataType actual, string expected) =>
        Error(ErrorCodes.ArgumentTypeMismatch,
            $"F.{Function.Name} argument {index + 1} ('{Function.Parameters[Math.Min(index, Function.Parameters.Length - 1)]}') must be {expected} but is {actual}: F.{Function.Signature}", index);
}

internal static class Suggest
{
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestD = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(name.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestD) { bestD = d; best = c; }
        }
        return best is not null && bestD <= Math.Max(2, name.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    public static string ScreamingSnake(string name)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }
}
