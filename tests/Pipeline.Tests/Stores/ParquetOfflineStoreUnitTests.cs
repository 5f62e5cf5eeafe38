using System.Text;
using FluentAssertions;
using Sluice.Pipeline.Compilation;
using Sluice.Pipeline.Execution;
using Sluice.Pipeline.Messages;
using Sluice.Pipeline.Stores;

namespace Sluice.Pipeline.Tests.Stores;

/// <summary>The offline store writing real Parquet files in a temp folder, read back with Parquet.Net's reader.</summary>
public sealed class ParquetOfflineStoreUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-offline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Yaml = """
        features:
          Gadget:
            sku: {type: string, primary: true}
            count: int64?
            weight: float64?
            active: bool?
            blob: bytes?
            made: date?
            seen: timestamp?
            tags: list<string>?
        messages:
          GadgetMessage: {sku: string, count: int64?, weight: float64?, active: bool?, blob: string?, made: string?, seen: int64?, tags: list<string>?}
        sources:
          gadgets: {kind: recording, path: g.jsonl}
        resolvers:
          gadgets:
            source: gadgets
            message_type: GadgetMessage
            output_features:
              Gadget.sku: _.sku
              Gadget.count: _.count
              Gadget.weight: _.weight
              Gadget.active: _.active
              Gadget.blob: F.cast(_.blob, bytes)
              Gadget.made: F.cast(_.made, date)
              Gadget.seen: F.from_unix_seconds(_.seen)
              Gadget.tags: _.tags
        """;

    [Fact]
    public async Task Rows_of_several_batches_read_back_column_by_column_with_their_nulls()
    {
        var plan = DefinitionCompiler.CompileText(Yaml, "g.yaml", out var errors)!?.Resolvers.Single();
        errors.Should().BeEmpty();
        ResolvedBatch Batch(params string[] payloads)
        {
            var b = new MessageBatch.Builder();
            for (int i = 0; i < payloads.Length; i++) b.Append("gadgets", 0, i, 1_700_000_000_000_000 + i, null, Encoding.UTF8.GetBytes(payloads[i]));
            return new ResolverStep(plan!).Process(b.Build(), 0);
        }
        await using (var store = new ParquetOfflineStore(_dir))
        {
            await store.WriteAsync(plan!, Batch(
                """{"sku": "é-1", "count": 7, "weight": 1.5, "active": true, "blob": "xy", "made": "2024-02-29", "seen": 1700000000, "tags": ["a", "b"]}""",
                """{"sku": "b-2"}"""));
            await store.WriteAsync(plan!, Batch("""{"sku": "", "count": -1, "weight": 0, "active": false, "blob": "", "tags": []}"""));
        }

        var file = Directory.GetFiles(Path.Combine(_dir, "gadget"), "*.parquet", SearchOption.AllDirectories).Single();
        await using var reader = await Parquet.ParquetReader.CreateAsync(file);
        var fields = reader.Schema.GetDataFields();
        fields.Select(f => f.Name).Should().Equal("gadget.sku", "gadget.count", "gadget.weight", "gadget.active", "gadget.blob", "gadget.made",
            "gadget.seen", "gadget.tags", "__ts__", "__resolver__");
        using var group = reader.OpenRowGroupReader(0);
        group.RowCount.Should().Be(3);
        async Task<string?[]> Strings(int c)
        {
            var values = new string?[3];
            await group.ReadAsync(fields[c], values);
            return values;
        }
        async Task<T?[]> Values<T>(int c) where T : struct
        {
            var values = new T?[3];
            await group.ReadAsync<T>(fields[c], values);
            return values;
        }
        (await Strings(0)).Should().Equal("é-1", "b-2", "");
        (await Values<long>(1)).Should().Equal(7, null, -1);
        (await Values<double>(2)).Should().Equal(1.5, null, 0);
        (await Values<bool>(3)).Should().Equal(true, null, false);
        var blobs = new byte[]?[3];
        await group.ReadAsync(fields[4], blobs);
        blobs[0].Should().Equal("xy"u8.ToArray());
        blobs[1].Should().BeNull();
        blobs[2].Should().BeEmpty();
        (await Values<DateTime>(5)).Should().Equal(new DateTime(2024, 2, 29), null, null);
        (await Values<DateTime>(6)).Should().Equal(DateTime.UnixEpoch.AddSeconds(1_700_000_000), null, null);
        (await Strings(7)).Should().Equal("[\"a\",\"b\"]", null, "[]");
        (await Values<DateTime>(8)).Should().Equal(DateTime.UnixEpoch.AddSeconds(1_700_000_000), DateTime.UnixEpoch.AddTicks(17_000_000_000_000_000 + 10), DateTime.UnixEpoch.AddTicks(17_000_000_000_000_000));
        (await Strings(9)).Should().AllBe("gadgets");
    }
}
