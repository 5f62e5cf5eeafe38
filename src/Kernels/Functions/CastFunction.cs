using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>F.cast(x, type): the conversions of <see cref="Conversions"/>; a value that does not convert is null.</summary>
internal static class CastFunction
{
    public static IEnumerable<FunctionDef> All()
    {
        yield return new Fn("cast", "cast", ["value", "type"],
            (ctx, a) =>
            {
                var target = (DataType)((LiteralExpr)a[1]).Value!;
                if (!Conversions.Exists(a[0].Type, target))
                    return ctx.Error(ErrorCodes.InvalidCast, $"cannot cast {a[0].Type} to {target}; see the conversion table in docs/expressions.md", 0);
                bool nullable = a[0].Type.IsNullable || Conversions.MayFail(a[0].Type, target);
                return Binding.Call(ctx, [a[0]], target.WithNullable(nullable));
            },
            (call, k) => Conversions.CreateKernel(call.Arguments[0].Type, call.Type, k[0]),
            (call, v) => Conversions.Row(v[0], call.Arguments[0].Type, call.Type),
            typeArgument: 1);
        yield return new Fn("proto_deserialize", "parse", ["bytes", "message_type"],
            (ctx, a) =>
            {
                if (!Binding.Expect(ctx, a, 0, "bytes", TypeKind.Bytes)) return null;
                // The binder resolves the type argument of this function to the protobuf schema itself.
                var message = (ProtoMessage)((LiteralExpr)a[1]).Value!;
                return Binding.Call(ctx, [Binding.To(a[0], DataType.Bytes)], message.Type.WithNullable(true), message);
            },
            (call, k) => new ProtoDeserializeKernel(call.Type, k[0], new ProtobufParseKernel((ProtoMessage)call.State!)),
            (call, v) =>
            {
                var kernel = new ProtobufParseKernel((ProtoMessage)call.State!);
                var parsed = kernel.ParseColumn(new Arg(Value.Of(ParseKernel.Messages([(byte[]?)v[0]])), 1), 1, (_, _, _) => { });
                return ArrowValues.GetRow(parsed, 0, call.Type);
            },
            typeArgument: 1);
    }
}

/// <summary>F.proto_deserialize over a column: malformed bytes become null and are reported as row errors.</summary>
internal sealed class ProtoDeserializeKernel(DataType type, Kernel input, ProtobufParseKernel parser) : Kernel(type)
{
    public override Value Evaluate(EvalContext ctx)
    {
        var v = input.Evaluate(ctx);
        return Value.Of(parser.ParseColumn(new Arg(v, ctx.Length), ctx.Length, ctx.RowError));
    }
}
