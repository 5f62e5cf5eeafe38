using Apache.Arrow;
using BenchmarkDotNet.Attributes;
using Sluice.Kernels.Execution;
using Sluice.Kernels.Expressions;
using Sluice.Kernels.Parsing;
using Sluice.Kernels.Types;

namespace Sluice.Perf;

/// <summary>One benchmark per kernel family over 4096-row batches, named by data shape (arrow-rs style).</summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private const int Rows = 4096;
    private static readonly DataType Schema = DataType.StructOf("Bench",
    [
        new StructField("i", DataType.Int64), new StructField("j", DataType.Int64.WithNullable(true)),
        new StructField("f", DataType.Float64), new StructField("s", DataType.String), new StructField("ts", DataType.Timestamp),
        new StructField("js", DataType.String),
    ]);

    private IArrowArray _batch = null!;
    private BinaryArray _json = null!;
    private ParseKernel _parse = null!;
    private CompiledExpression _addInt = null!, _divFloat = null!, _compare = null!, _lower = null!, _substr = null!, _concat = null!,
        _fromUnix = null!, _format = null!, _md5 = null!, _xxhash = null!, _jsonValue = null!, _coalesce = null!, _cast = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        var rows = new List<object?>();
        for (int k = 0; k < Rows; k++)
            rows.Add(new object?[]
            {
                rng.NextInt64(-1_000_000, 1_000_000), k % 10 == 0 ? null : rng.NextInt64(1, 1000), rng.NextDouble() * 1000,
                $"Name {k} Ünïcode {rng.Next()}", 1_700_000_000_000_000 + rng.NextInt64(0, 1_000_000_000_000),
                $"{{\"a\": {{\"b\": \"v{k}\"}}, \"n\": {k}}}",
            });
        _batch = ArrowValues.FromRows(rows, Schema);
        _json = UserMessages.Batches(UserMessages.Generate(Rows), Rows)[0];
        _parse = ParseKernel.For(UserMessages.Schema);
        CompiledExpression C(string e) => Expression.Compile(e, Schema);
        _addInt = C("_.i + _.j");
        _divFloat = C("_.i / 1_000_000");
        _compare = C("_.f > 500.0");
        _lower = C("F.lower(_.s)");
        _substr = C("F.substr(_.s, 2, 5)");
        _concat = C("F.concat(_.i, '-', _.s)");
        _fromUnix = C("F.from_unix_seconds(_.i / 1_000_000)");
        _format = C("F.format_datetime(_.ts, '%Y-%m-%d %H:%M:%S')");
        _md5 = C("F.md5(_.s)");
        _xxhash = C("F.xxhash64(_.s)");
        _jsonValue = C("F.json_value(_.js, '$.a.b')");
        _coalesce = C("F.coalesce(_.j, 0)");
        _cast = C("F.cast(_.i, string)");
    }

    [Benchmark] public IArrowArray arith_add_int64_nullable_4096() => _addInt.Evaluate(_batch);
    [Benchmark] public IArrowArray arith_div_int64_by_scalar_4096() => _divFloat.Evaluate(_batch);
    [Benchmark] public IArrowArray compare_float64_scalar_4096() => _compare.Evaluate(_batch);
    [Benchmark] public IArrowArray string_lower_utf8_24B_4096() => _lower.Evaluate(_batch);
    [Benchmark] public IArrowArray string_substr_utf8_24B_4096() => _substr.Evaluate(_batch);
    [Benchmark] public IArrowArray string_concat_int_str_4096() => _concat.Evaluate(_batch);
    [Benchmark] public IArrowArray time_from_unix_seconds_4096() => _fromUnix.Evaluate(_batch);
    [Benchmark] public IArrowArray time_format_datetime_4096() => _format.Evaluate(_batch);
    [Benchmark] public IArrowArray hash_md5_utf8_24B_4096() => _md5.Evaluate(_batch);
    [Benchmark] public IArrowArray hash_xxhash64_utf8_24B_4096() => _xxhash.Evaluate(_batch);
    [Benchmark] public IArrowArray parse_json_value_40B_4096() => _jsonValue.Evaluate(_batch);
    [Benchmark] public IArrowArray null_coalesce_int64_4096() => _coalesce.Evaluate(_batch);
    [Benchmark] public IArrowArray cast_int64_to_string_4096() => _cast.Evaluate(_batch);
    [Benchmark] public IArrowArray json_parse_user_167B_4096() => _parse.Parse(_json).Column;
}
