using Sluice.Kernels.Diagnostics;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
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
            (ctx, a) => ctx.Error(ErrorCodes.FunctionNotAvailable,
                "F.proto_deserialize arrives with protobuf message support (protos: in the definition file); it is not available yet"),
            (call, k) => throw new InvalidOperationException("not bindable"),
            (call, v) => throw new InvalidOperationException("not bindable"),
            typeArgument: 1);
    }
}
