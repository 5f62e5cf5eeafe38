using FluentAssertions;

namespace Sluice.Sinks.Tests.Offline;

/// <summary>The offline store writing real Parquet files in a temp folder, read back with Parquet.Net's reader.</summary>
public sealed class ParquetOfflineStoreUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-offline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Partial_files_a_crashed_writer_left_are_removed_and_a_live_writers_file_is_kept()
    {
        var day = Directory.CreateDirectory(Path.Combine(_dir, "gadget", "date=2024-01-01")).FullName;
        var crashed = Path.Combine(day, "part-gadgets-20240101000000-deadbeef-00001.parquet.tmp");
        await File.WriteAllBytesAsync(crashed, [0x50, 0x41, 0x52, 0x31, 1, 2, 3]); // a header and nothing else: what a crash leaves
        var live = Path.Combine(day, "part-gadgets-20240101000000-cafebabe-00001.parquet.tmp");
        await using var held = new FileStream(live, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None); // another process's open file
        var complete = Path.Combine(day, "part-gadgets-20240101000000-cafebabe-00000.parquet");
        await File.WriteAllBytesAsync(complete, [1]);

        await using var store = new ParquetOfflineStore(_dir);
        store.RemovedLeftovers.Should().Be(1);
        File.Exists(crashed).Should().BeFalse("a crashed writer's partial file is removed");
        File.Exists(live).Should().BeTrue("a live writer's open file is not touched");
        File.Exists(complete).Should().BeTrue("complete files are never touched");
    }

    [Fact]
    public async Task Rows_of_several_batches_read_back_column_by_column_with_their_nulls()
    {
        var plan = Gadgets.Plan;
        await using (var store = new ParquetOfflineStore(_dir))
        {
            await store.WriteAsync(plan, Gadgets.Resolve(
                """{"sku": "é-1", "count": 7, "weight": "1.5", "active": true, "blob": "xy", "made": "2024-02-29", "seen": 1700000000, "tags": ["a", "b"], "size": {"w": 3, "h": 4}}""",
                """{"sku": "b-2"}"""));
            await store.WriteAsync(plan, Gadgets.Resolve("""{"sku": "", "count": -1, "weight": "0", "active": false, "blob": "", "tags": []}"""));
        }

        var file = Directory.GetFiles(Path.Combine(_dir, "gadget"), "*.parquet", SearchOption.AllDirectories).Single();
        await using var reader = await Parquet.ParquetReader.CreateAsync(file);
        var fields = reader.Schema.GetDataFields();
        fields.Select(f => f.Name).Should().Equal("gadget.sku", "gadget.count", "gadget.weight", "gadget.active", "gadget.blob", "gadget.made",
            "gadget.seen", "gadget.tags", "gadget.size", "gadget.note", "__ts__", "__resolver__");
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
        (await Strings(8)).Should().Equal("{\"w\":3,\"h\":4}", null, null);
        (await Values<DateTime>(10)).Should().Equal(DateTime.UnixEpoch.AddSeconds(1_700_000_000), DateTime.UnixEpoch.AddTicks(17_000_000_000_000_000 + 10), DateTime.UnixEpoch.AddTicks(17_000_000_000_000_000));
        (await Strings(11)).Should().AllBe("gadgets");
    }
}
