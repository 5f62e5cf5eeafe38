using Sluice.Pipeline.Contracts;

namespace Sluice.Sinks;

/// <summary>
/// Records appended to a text file as lines (their values), each call's lines in one append so that several graphs may
/// share the file (the dead-letter file: a replayable JSONL recording). Headers are not kept: a dead letter is its line.
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
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1, useAsync: false);
        }
        await _file.WriteAsync(text.GetBuffer().AsMemory(0, (int)text.Length), cancellationToken);
        await _file.FlushAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null) await _file.DisposeAsync();
    }
}
