using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Text;

namespace Sluice;

/// <summary>An expression tree of a C# resolver that has no Sluice equivalent; names the construct.</summary>
public sealed class UnsupportedExpressionException(string message) : Exception(message);

/// <summary>
/// Lowers a C# expression tree over a message into Sluice expression text (<c>m =&gt; m.ContactInfo.EmailAddress</c> is
/// <c>_.contact_info.email_address</c>), which the compiler checks and lowers to the same IR as YAML. Nothing here runs
/// per row. Values captured from the enclosing scope become literals, evaluated once here.
/// </summary>
internal sealed class ExpressionLowering(ParameterExpression root, ClrSchemas schemas)
{
    public static string Lower(LambdaExpression lambda, ClrSchemas schemas) => new ExpressionLowering(lambda.Parameters[0], schemas).Visit(lambda.Body);

    public string Visit(Expression e)
    {
        if (!ReadsRoot(e)) return Literal(Evaluate(e), e.Type, e);
        return e switch
        {
            ParameterExpression p when p == root => "_",
            MemberExpression m => Member(m),
            UnaryExpression u => Unary(u),
            BinaryExpression b => Binary(b),
            ConditionalExpression c => $"F.if_then_else({Visit(c.Test)}, {Visit(c.IfTrue)}, {Visit(c.IfFalse)})",
            MethodCallExpression c => Call(c),
            _ => throw Unsupported(e, $"a {e.NodeType} expression"),
        };
    }

    private bool ReadsRoot(Expression e)
    {
        var finder = new RootFinder(root);
        finder.Visit(e);
        return finder.Found;
    }

    private sealed class RootFinder(ParameterExpression root) : ExpressionVisitor
    {
        public bool Found { get; private set; }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            Found |= node == root;
            return node;
        }
    }

    private static object? Evaluate(Expression e) => e is ConstantExpression c ? c.Value : Expression.Lambda(e).Compile().DynamicInvoke();

    private string Member(MemberExpression m)
    {
        var target = Visit(m.Expression!);
        var declaring = m.Member.DeclaringType!;
        if (Nullable.GetUnderlyingType(declaring) is not null)
            return m.Member.Name switch
            {
                "Value" => target,
                "HasValue" => $"(not F.is_null({target}))",
                _ => throw Unsupported(m, $"Nullable member {m.Member.Name}"),
            };
        if (declaring == typeof(string) && m.Member.Name == "Length") return $"F.length({target})";
        if (m.Member.Name is "Count" or "Length" && ClrSchemas.ElementType(declaring) is not null) return $"F.array_count({target})";
        if (m.Member is not PropertyInfo and not FieldInfo) throw Unsupported(m, $"member {m.Member.Name}");
        return $"{target}.{schemas.FieldName(m.Member)}";
    }

    private string Unary(UnaryExpression u) => u.NodeType switch
    {
        ExpressionType.Convert or ExpressionType.ConvertChecked => Convert(u),
        ExpressionType.Not when u.Operand.Type == typeof(bool) || u.Operand.Type == typeof(bool?) => $"(not {Visit(u.Operand)})",
        ExpressionType.Negate or ExpressionType.NegateChecked => $"(-{Visit(u.Operand)})",
        ExpressionType.UnaryPlus => Visit(u.Operand),
        _ => throw Unsupported(u, $"the unary operator {u.NodeType}"),
    };

    private string Convert(UnaryExpression u)
    {
        var from = Nullable.GetUnderlyingType(u.Operand.Type) ?? u.Operand.Type;
        var to = Nullable.GetUnderlyingType(u.Type) ?? u.Type;
        var operand = Visit(u.Operand);
        if (from == to || to == typeof(object)) return operand;
        if (from.IsEnum && to == Enum.GetUnderlyingType(from)) return operand; // an enum compared as its number
        bool Integral(Type t) => t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(uint) || t == typeof(byte) || t == typeof(ushort) || t == typeof(sbyte);
        if (Integral(from) && Integral(to)) return operand; // all int64 in Sluice
        if (Integral(from) && (to == typeof(double) || to == typeof(float))) return $"F.cast({operand}, float64)";
        if (from == typeof(float) && to == typeof(double)) return operand;
        throw Unsupported(u, $"a conversion from {ClrSchemas.Describe(from)} to {ClrSchemas.Describe(to)}");
    }

    private string Binary(BinaryExpression b)
    {
        if (b.NodeType == ExpressionType.Coalesce) return $"F.coalesce({Visit(b.Left)}, {Visit(b.Right)})";
        if (b.NodeType == ExpressionType.Add && (b.Left.Type == typeof(string) || b.Right.Type == typeof(string)))
            return $"F.concat({Visit(b.Left)}, {Visit(b.Right)})";
        var type = Nullable.GetUnderlyingType(b.Left.Type) ?? b.Left.Type;
        bool integral = type != typeof(double) && type != typeof(float);
        // C# widens an integer operand next to a double; Sluice promotes int64 to float64 the same way, so the
        // widening is left to the compiler and m.UpdatedAt / 1_000_000.0 reads exactly like its YAML twin.
        var left = IntegerWidened(b.Left) ?? b.Left;
        var right = IntegerWidened(b.Right) ?? b.Right;
        var op = b.NodeType switch
        {
            ExpressionType.Add or ExpressionType.AddChecked => "+",
            ExpressionType.Subtract or ExpressionType.SubtractChecked => "-",
            ExpressionType.Multiply or ExpressionType.MultiplyChecked => "*",
            ExpressionType.Divide when !integral => "/",
            ExpressionType.Divide => throw Unsupported(b,
                "integer division (C# truncates toward zero; Sluice's // floors and / is true division): divide by a double literal (m.UpdatedAt / 1_000_000.0) or cast"),
            ExpressionType.Modulo when !integral => "%",
            ExpressionType.Equal => "==",
            ExpressionType.NotEqual => "!=",
            ExpressionType.LessThan => "<",
            ExpressionType.LessThanOrEqual => "<=",
            ExpressionType.GreaterThan => ">",
            ExpressionType.GreaterThanOrEqual => ">=",
            ExpressionType.AndAlso or ExpressionType.And when type == typeof(bool) => "and",
            ExpressionType.OrElse or ExpressionType.Or when type == typeof(bool) => "or",
            _ => throw Unsupported(b, $"the operator {b.NodeType} on {ClrSchemas.Describe(type)}"),
        };
        return $"({Visit(left)} {op} {Visit(right)})";
    }

    private static Expression? IntegerWidened(Expression e) =>
        e is UnaryExpression { NodeType: ExpressionType.Convert } u && (Nullable.GetUnderlyingType(u.Type) ?? u.Type) == typeof(double) &&
        (Nullable.GetUnderlyingType(u.Operand.Type) ?? u.Operand.Type) is var from && from != typeof(double) && from != typeof(float) && from.IsPrimitive
            ? u.Operand : null;

    private string Call(MethodCallExpression c)
    {
        var m = c.Method;
        if (m.DeclaringType == typeof(F))
        {
            var name = ClrSchemas.Snake(m.Name);
            var args = new List<string>();
            foreach (var (p, a) in m.GetParameters().Zip(c.Arguments))
            {
                if (p.GetCustomAttribute<ParamArrayAttribute>() is not null && a is NewArrayExpression array)
                    args.AddRange(array.Expressions.Select(Visit));
                else args.Add(Visit(a));
            }
            if (name == "cast") args.Add(SluiceType(m.GetGenericArguments()[0], c));
            if (name == "proto_deserialize")
            {
                var contract = m.GetGenericArguments()[0];
                args.Add(ClrSchemas.IsProtoContract(contract) ? schemas.ProtoName(contract) : contract.Name);
            }
            return $"F.{name}({string.Join(", ", args)})";
        }
        if (m.DeclaringType == typeof(string) && c.Object is not null)
        {
            var s = Visit(c.Object);
            string Arg(int i) => Visit(c.Arguments[i]);
            return (m.Name, c.Arguments.Count) switch
            {
                ("ToLower" or "ToLowerInvariant", 0) => $"F.lower({s})",
                ("ToUpper" or "ToUpperInvariant", 0) => $"F.upper({s})",
                ("Trim", 0) => $"F.trim({s})",
                ("StartsWith", 1) when c.Arguments[0].Type == typeof(string) => $"F.starts_with({s}, {Arg(0)})",
                ("EndsWith", 1) when c.Arguments[0].Type == typeof(string) => $"F.ends_with({s}, {Arg(0)})",
                ("Contains", 1) when c.Arguments[0].Type == typeof(string) => $"F.contains({s}, {Arg(0)})",
                ("Replace", 2) when c.Arguments[0].Type == typeof(string) => $"F.replace({s}, {Arg(0)}, {Arg(1)})",
                ("Substring", 1) => $"F.substr({s}, {Arg(0)}, None)",
                ("Substring", 2) => $"F.substr({s}, {Arg(0)}, {Arg(1)})",
                _ => throw Unsupported(c, $"string.{m.Name} with {c.Arguments.Count} argument(s)"),
            };
        }
        if (m.DeclaringType == typeof(Enumerable)) return ListCall(c);
        if (m.DeclaringType == typeof(string) && m.Name == "Concat") return $"F.concat({string.Join(", ", c.Arguments.Select(Visit))})";
        if (m.DeclaringType == typeof(Math) && c.Arguments.Count == 1 && m.Name is "Abs" or "Floor" or "Ceiling" or "Sqrt" or "Log")
            return $"F.{m.Name switch { "Ceiling" => "ceil", "Log" => "ln", _ => m.Name.ToLowerInvariant() }}({Visit(c.Arguments[0])})";
        throw Unsupported(c, $"the method {m.DeclaringType?.Name}.{m.Name}");
    }

    /// <summary>
    /// LINQ over a list: <c>m.Items.Select(i =&gt; i.Qty)</c> is <c>_.items.qty</c>; Sum, Max, Min and Count (with or
    /// without that selector) are F.array_sum/max/min/count; Contains is F.contains; ToList and ToArray change nothing.
    /// </summary>
    private string ListCall(MethodCallExpression c)
    {
        var m = c.Method;
        var list = Visit(c.Arguments[0]);
        string Items() => c.Arguments.Count == 1 ? list : ItemPath(list, c.Arguments[1], c);
        return (m.Name, c.Arguments.Count) switch
        {
            ("Select", 2) => ItemPath(list, c.Arguments[1], c),
            ("ToList" or "ToArray" or "AsEnumerable", 1) => list,
            ("Sum", 1 or 2) => $"F.array_sum({Items()})",
            ("Max", 1 or 2) => $"F.array_max({Items()})",
            ("Min", 1 or 2) => $"F.array_min({Items()})",
            ("Count" or "LongCount", 1) => $"F.array_count({list})",
            ("Contains", 2) => $"F.contains({list}, {Visit(c.Arguments[1])})",
            _ => throw Unsupported(c, $"Enumerable.{m.Name} with {c.Arguments.Count - 1} argument(s) (lists take Select(i => i.Field), Sum, Max, Min, Count, Contains and ToList)"),
        };
    }

    /// <summary>The field path a per-item selector reads (<c>i =&gt; i.Dims.Width</c>), through the list: <c>list.dims.width</c>.</summary>
    private string ItemPath(string list, Expression selector, Expression at)
    {
        if (selector is UnaryExpression { NodeType: ExpressionType.Quote } q) selector = q.Operand;
        var lambda = selector as LambdaExpression ?? throw Unsupported(at, "a list selector that is not a lambda");
        var path = new List<string>();
        var e = lambda.Body;
        while (true)
        {
            if (e is UnaryExpression { NodeType: ExpressionType.Convert } conv) e = conv.Operand;
            else if (e is MemberExpression { Member: PropertyInfo or FieldInfo } member && member.Expression is not null)
            {
                path.Add(schemas.FieldName(member.Member));
                e = member.Expression;
            }
            else break;
        }
        if (e != lambda.Parameters[0] || path.Count == 0)
            throw Unsupported(at, $"the list selector '{lambda}' (a selector reads a field of the item, i => i.Qty or i => i.Dims.Width)");
        path.Reverse();
        return $"{list}.{string.Join(".", path)}";
    }

    private string SluiceType(Type t, Expression at)
    {
        try { return schemas.TypeText(t).TrimEnd('?'); }
        catch (NotSupportedException e) { throw Unsupported(at, e.Message); }
    }

    private static string Literal(object? value, Type type, Expression at) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => Quote(s),
        byte[] bytes => "b\"" + string.Concat(bytes.Select(x => $"\\x{x:x2}")) + "\"",
        double d when double.IsFinite(d) => Float(d),
        float f when float.IsFinite(f) => Float(f),
        long or int or short or sbyte or uint or ushort or byte => System.Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
        _ => throw Unsupported(at, $"the value {value} of type {ClrSchemas.Describe(type)} as a literal"),
    };

    private static string Float(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s.Replace("E", "e", StringComparison.Ordinal) : s + ".0";
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var ch in s)
            sb.Append(ch switch
            {
                '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t",
                < ' ' => $"\\x{(int)ch:x2}",
                _ => ch.ToString(),
            });
        return sb.Append('"').ToString();
    }

    private static UnsupportedExpressionException Unsupported(Expression e, string what) =>
        new($"cannot lower {what} in '{e}' to a Sluice expression; use operators, F.* functions, string methods (ToLower, Trim, StartsWith, ...) or member access on the message");
}
