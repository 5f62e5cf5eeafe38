using Sluice.Clients;
using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// Records appended to a text file as lines (their values), each call's lines in one append so that several graphs may
/// share the file (the dead-letter file: a replayable JSONL recording). Each append is fsynced before it returns. Headers are not kept: a dead letter is its line.
/// </summary>
internal sealed class AppendedLines(string path) : IRecordTransport
{
    private FileStream? _file;

    public bool CarriesHeaders => false;

    public async Task SendAsync(IReadOnlyList<OutRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return;
        using var text = new MemoryStream();
        foreach (var r in records)
        {
            text.Write(r.Value);
            text.WriteByte((byte)'\n');
        }
        if (_file is null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            bool created = !File.Exists(path);
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1, useAsync: false);
            if (created) DurableFiles.SyncFolder(dir);
        }
        await _file.WriteAsync(text.GetBuffer().AsMemory(0, (int)text.Length), cancellationToken);
        // Acknowledged once this returns: on disk past a machine crash.
        _file.Flush(flushToDisk: true);
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null) await _file.DisposeAsync();
    }
}
