using FluentAssertions;
using Sluice.Clients;

namespace Sluice.Sinks.Tests.Offline;

/// <summary>
/// Durability past a machine crash (DESIGN.md section 4): what the stores rely on to acknowledge only what survives a
/// power loss. The loss itself cannot be caused here; these check the settings and the folder sync.
/// </summary>
public sealed class DurabilityUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sluice-durable-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SQLite_files_commit_with_synchronous_full(bool ownWriter)
    {
        var file = await SqliteFile.OpenAsync(Path.Combine(_dir, "store.db"), "test store", "", CancellationToken.None, ownWriter: ownWriter);
        try
        {
            await using var cmd = file.Connection.CreateCommand();
            cmd.CommandText = "PRAGMA synchronous";
            Convert.ToInt32(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture).Should().Be(2, "2 is FULL");
        }
        finally
        {
            await file.DisposeAsync();
        }
    }

    [Fact]
    public void A_published_file_has_its_final_name_and_the_old_one_is_gone()
    {
        var tmp = Path.Combine(_dir, "part-0.parquet.tmp");
        File.WriteAllText(tmp, "complete");
        DurableFiles.Publish(tmp, tmp[..^4]);
        File.Exists(tmp).Should().BeFalse();
        File.ReadAllText(tmp[..^4]).Should().Be("complete");
    }

    [Fact]
    public void Syncing_a_folder_that_is_not_there_names_it()
    {
        var missing = Path.Combine(_dir, "missing");
        var sync = () => DurableFiles.SyncFolder(missing);
        sync.Should().Throw<IOException>().WithMessage($"{missing}: cannot open the folder to sync it*");
    }
}
