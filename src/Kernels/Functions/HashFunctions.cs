using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Types;

namespace Sluice.Kernels.Functions;

/// <summary>md5, sha1, sha256 (digest bytes) and xxhash64 (int64, seed 0) of a string's UTF-8 or of bytes.</summary>
internal static class HashFunctions
{
    public static IEnumerable<FunctionDef> All()
    {
        yield return Digest("md5", 16, (s, d) => MD5.HashData(s, d), MD5.HashData);
        yield return Digest("sha1", 20, (s, d) => SHA1.HashData(s, d), SHA1.HashData);
        yield return Digest("sha256", 32, (s, d) => SHA256.HashData(s, d), SHA256.HashData);
        yield return new Fn("xxhash64", "hash", ["value"],
            (ctx, a) => Binding.Expect(ctx, a, 0, "a string or bytes", TypeKind.String, TypeKind.Bytes)
                ? Binding.Call(ctx, [TextArg(a[0])], DataType.Int64.WithNullable(a[0].Type.IsNullable)) : null,
            (call, k) => new RowLoopKernel<PrimitiveBuilder<long>>(call.Type, k, (a, i, o) => o.Append((long)XxHash64(a[0].Bytes(i)))),
            (call, v) => (long)XxHash64(AsBytes(v[0]!)));
    }

    private delegate int SpanHash(ReadOnlySpan<byte> source, Span<byte> destination);

    private static Expressions.BoundExpr TextArg(Expressions.BoundExpr e) => e.Type.Kind == TypeKind.Null ? Binding.To(e, DataType.String) : e;

    internal static byte[] AsBytes(object v) => v is string s ? System.Text.Encoding.UTF8.GetBytes(s) : (byte[])v;

    private static Fn Digest(string name, int size, SpanHash hash, Func<byte[], byte[]> rowHash) => new(name, "hash", ["value"],
        (ctx, a) => Binding.Expect(ctx, a, 0, "a string or bytes", TypeKind.String, TypeKind.Bytes)
            ? Binding.Call(ctx, [TextArg(a[0])], DataType.Bytes.WithNullable(a[0].Type.IsNullable)) : null,
        (call, k) => new RowLoopKernel<BinaryBuilder>(call.Type, k, (a, i, o) => o.Commit(hash(a[0].Bytes(i), o.Reserve(size)))),
        (call, v) => rowHash(AsBytes(v[0]!)));

    private const ulong P1 = 11400714785074694791UL, P2 = 14029467366897019727UL, P3 = 1609587929392839161UL,
        P4 = 9650029242287828579UL, P5 = 2870177450012600261UL;

    /// <summary>XXH64 with seed 0 (the reference algorithm; checked against System.IO.Hashing in tests).</summary>
    internal static ulong XxHash64(ReadOnlySpan<byte> data)
    {
        int len = data.Length, p = 0;
        ulong h;
        if (len >= 32)
        {
            ulong v1 = unchecked(P1 + P2), v2 = P2, v3 = 0, v4 = unchecked(0 - P1);
            for (; p + 32 <= len; p += 32)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(data[p..]));
                v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(data[(p + 8)..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(data[(p + 16)..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(data[(p + 24)..]));
            }
            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            h = Merge(h, v1);
            h = Merge(h, v2);
            h = Merge(h, v3);
            h = Merge(h, v4);
        }
        else h = P5;
        h += (ulong)len;
        for (; p + 8 <= len; p += 8)
        {
            h ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(data[p..]));
            h = BitOperations.RotateLeft(h, 27) * P1 + P4;
        }
        if (p + 4 <= len)
        {
            h ^= BinaryPrimitives.ReadUInt32LittleEndian(data[p..]) * P1;
            h = BitOperations.RotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        for (; p < len; p++)
        {
            h ^= data[p] * P5;
            h = BitOperations.RotateLeft(h, 11) * P1;
        }
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
    }

    private static ulong Round(ulong acc, ulong input) => BitOperations.RotateLeft(acc + input * P2, 31) * P1;
    private static ulong Merge(ulong acc, ulong v) => (acc ^ Round(0, v)) * P1 + P4;
}
